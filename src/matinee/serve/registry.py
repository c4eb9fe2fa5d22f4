"""The loaded models of a server, swapped whole when their saved directories change.

A new model is loaded completely beside the old one and swapped in with one dict-item
assignment; a request holds the bundle it started with, so requests in flight finish on the
old model. A model that fails to load is refused: the old one keeps serving and the reason is
logged and kept for ``/api/v1/models``.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matinee.errors import ConfigError, MatineeError
from matinee.serve.errors import UnknownModelError
from matinee.service import ModelBundle
from matinee.store.manifest import MANIFEST_NAME

__all__ = ["ModelRegistry", "ModelSlot", "ReloadOutcome", "Stamp"]

log = logging.getLogger(__name__)

Stamp = tuple[int, int, int, int, int]
"""(directory inode, manifest device, manifest inode, manifest mtime in ns, manifest size)."""

Loader = Callable[[Path], ModelBundle]


def stamp_of(directory: Path) -> Stamp | None:
    """What identifies one version of a saved model on disk; None while it is missing."""
    try:
        folder = os.stat(directory)
        manifest = os.stat(directory / MANIFEST_NAME)
    except OSError:
        return None
    return (folder.st_ino, manifest.st_dev, manifest.st_ino, manifest.st_mtime_ns, manifest.st_size)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ModelSlot:
    """One served model: its directory, the bundle answering now and how it got there."""

    directory: Path
    bundle: ModelBundle
    stamp: Stamp | None
    loaded_at: str
    last_reload_error: str | None = None
    refused_stamp: Stamp | None = None
    """The on-disk version last refused, so the watcher does not retry it every second."""

    def describe(self) -> dict[str, Any]:
        """The bundle's facts plus when it was loaded and why the last reload was refused."""
        return {
            **self.bundle.describe(),
            "loaded_at": self.loaded_at,
            "last_reload_error": self.last_reload_error,
        }


@dataclass(frozen=True)
class ReloadOutcome:
    """Models swapped in and models refused (name -> reason)."""

    reloaded: list[str]
    refused: dict[str, str]


class ModelRegistry:
    """The models of one server by name; the first is the default."""

    def __init__(self, directories: Sequence[Path], *, loader: Loader | None = None) -> None:
        """Load every model now; a directory that fails to load fails the server's start.

        Raises:
            ConfigError: no directory, or two directories with the same name.
            ModelFormatError: a directory that is not a loadable saved model.
        """
        self._load: Loader = loader or ModelBundle.load
        paths = [Path(directory) for directory in directories]
        if not paths:
            raise ConfigError("give at least one saved model directory to serve")
        names = [path.resolve().name for path in paths]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ConfigError(f"model directories must have distinct names; repeated: {twice}")
        self._lock = threading.Lock()
        self._slots: dict[str, ModelSlot] = {}
        for path in paths:
            stamp = stamp_of(path)
            bundle = self._load(path)
            self._slots[bundle.name] = ModelSlot(path, bundle, stamp, _now())
            log.info("loaded model %s from %s", bundle.name, path)
        self.default = next(iter(self._slots))

    @property
    def names(self) -> list[str]:
        """Model names, the default first."""
        return list(self._slots)

    def slots(self) -> list[ModelSlot]:
        """Every slot as it is now."""
        return list(self._slots.values())

    def get(self, name: str | None = None) -> ModelBundle:
        """The bundle answering for ``name`` (the default for None), held by the caller.

        Raises:
            UnknownModelError: no model of that name is loaded.
        """
        slot = self._slots.get(self.default if name is None else name)
        if slot is None:
            raise UnknownModelError(str(name), self.names)
        return slot.bundle

    def reload(self, name: str | None = None, *, only_changed: bool = False) -> ReloadOutcome:
        """Load ``name`` (every model for None) again from disk and swap in what loads.

        Args:
            name: One model, or None for all.
            only_changed: Skip models whose files look unchanged (and versions already
                refused); the watcher's mode.

        Raises:
            UnknownModelError: ``name`` is not a loaded model.
        """
        if name is not None and name not in self._slots:
            raise UnknownModelError(name, self.names)
        names = [name] if name is not None else self.names
        reloaded: list[str] = []
        refused: dict[str, str] = {}
        with self._lock:
            for each in names:
                outcome = self._reload_one(each, only_changed=only_changed)
                if outcome is True:
                    reloaded.append(each)
                elif isinstance(outcome, str):
                    refused[each] = outcome
        return ReloadOutcome(reloaded, refused)

    def _reload_one(self, name: str, *, only_changed: bool) -> bool | str | None:
        slot = self._slots[name]
        stamp = stamp_of(slot.directory)
        if only_changed and (stamp is None or stamp in (slot.stamp, slot.refused_stamp)):
            return None
        try:
            bundle = self._load(slot.directory)
            if bundle.name != name:
                raise ConfigError(f"{slot.directory} now loads as {bundle.name!r}, not {name!r}")
        except (MatineeError, OSError, ValueError) as error:
            if only_changed and stamp_of(slot.directory) != stamp:
                return None
            reason = f"{type(error).__name__}: {error}"
            log.error(
                "refused new version of model %s: %s; the old one keeps serving", name, reason
            )
            self._slots[name] = replace(slot, last_reload_error=reason, refused_stamp=stamp)
            return reason
        self._slots[name] = ModelSlot(slot.directory, bundle, stamp, _now())
        gc.freeze()  # the new model's objects out of the cyclic collector's passes (app.warm_up)
        log.info("swapped in a new version of model %s", name)
        return True

    def watch(self, interval_s: float) -> Watcher:
        """Start a thread that reloads models whose directories change; stop it when done."""
        watcher = Watcher(self, interval_s)
        watcher.start()
        return watcher


class Watcher:
    """A daemon thread polling each model's manifest and reloading the ones that changed."""

    def __init__(self, registry: ModelRegistry, interval_s: float) -> None:
        self._registry = registry
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="matinee-model-watcher", daemon=True)

    def start(self) -> None:
        """Begin polling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and wait for a reload in progress to finish."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._registry.reload(only_changed=True)
            except Exception:
                log.exception("the model watcher failed; it keeps watching")
