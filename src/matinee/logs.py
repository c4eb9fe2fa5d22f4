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


class ProgressBar:
    """A handle on one progress task; a no-op when progress is switched off."""

    def __init__(self, bar: Progress | None, task: TaskID | None) -> None:
        self._bar = bar
        self._task = task

    def advance(self, amount: float = 1.0, *, status: str = "") -> None:
        """Move the bar forward and update the status text shown beside it."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=amount, status=status)

    def set_total(self, total: float | None) -> None:
        """Change the total, for work whose size becomes known late."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, total=total)


@contextmanager
def progress(
    description: str, total: float | None, *, enabled: bool = True, transfer: bool = False
) -> Iterator[ProgressBar]:
    """Show a Rich progress bar for long work, or nothing when ``enabled`` is false.

    Args:
        description: What the work is, shown left of the bar.
        total: Units of work, or None when unknown.
        enabled: Whether to draw anything at all.
        transfer: Show bytes and speed (for downloads) instead of a count.
    """
    if not enabled:
        yield ProgressBar(None, None)
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
        yield ProgressBar(bar, task)


def configure_logging(level: int | str = logging.WARNING) -> None:
    """Send library logs to the terminal through Rich; for entry points only."""
    logging.basicConfig(
        level=level, format="%(message)s", handlers=[RichHandler(show_path=False)], force=True
    )
