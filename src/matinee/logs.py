"""Logging and progress helpers.

Library code logs through :func:`logging.getLogger` and reports long work through :func:`progress`,
which can be switched off. Only entry points (the CLI and the server) call
:func:`configure_logging`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

__all__ = ["ProgressBar", "configure_logging", "progress"]

_showing: list[Progress] = []
"""The live progress display now on screen, if any (nested progress adds bars to it)."""


class ProgressBar:
    """A handle on one progress task; a no-op when progress is switched off."""

    def __init__(self, bar: Progress | None, task: TaskID | None) -> None:
        self._bar = bar
        self._task = task

    def advance(self, amount: float = 1.0, *, status: str = "") -> None:
        """Move the bar forward and update the status text shown beside it."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=amount, status=status)

    def describe(self, description: str) -> None:
        """Change the text left of the bar (for example which model and fold is running)."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=description)

    def set_total(self, total: float | None) -> None:
        """Change the total, for work whose size becomes known late."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, total=total)


@contextmanager
def progress(
    description: str, total: float | None, *, enabled: bool = True, transfer: bool = False
) -> Iterator[ProgressBar]:
    """Show a Rich progress bar for long work, or nothing when ``enabled`` is false.

    Progress started while another is showing becomes one more bar in the same live display
    (Rich allows one at a time), removed when that work ends: a comparison's overall bar with
    the running fit's epochs beneath it.

    Args:
        description: What the work is, shown left of the bar.
        total: Units of work, or None when unknown.
        enabled: Whether to draw anything at all.
        transfer: Show bytes and speed (for downloads) instead of a count.
    """
    if not enabled:
        yield ProgressBar(None, None)
        return
    if _showing:
        outer = _showing[-1]
        task = outer.add_task(description, total=total, status="")
        try:
            yield ProgressBar(outer, task)
        finally:
            outer.remove_task(task)
        return
    columns = [
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn() if transfer else MofNCompleteColumn(),
        TransferSpeedColumn() if transfer else TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(description, total=total, status="")
        _showing.append(bar)
        try:
            yield ProgressBar(bar, task)
        finally:
            _showing.remove(bar)


def configure_logging(level: int | str = logging.WARNING) -> None:
    """Send library logs and Python warnings to stderr through Rich; for entry points only.

    Stdout is left to results, so that ``--json`` output stays JSON alone even when a library
    warns (scikit-learn's ConvergenceWarning from ``nmf-matrix``, for one).
    """
    handler = RichHandler(console=Console(stderr=True), show_path=False)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    logging.captureWarnings(True)
