"""Manifest: what a saved model directory holds, written as ``manifest.json`` beside the arrays.

The manifest is plain JSON: the format version, the registry name of the model, its config, the
fingerprint of the training data, the training history, library versions, metrics, the sha256 of
every other file and the name, shape and dtype of every array. :meth:`Manifest.from_json` checks
all of it before anything else is read, so a bad directory fails with a message naming the problem.
"""

from __future__ import annotations

import json
import platform
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from matinee.errors import ModelFormatError

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "ArraySpec",
    "Manifest",
    "library_versions",
    "stored_name",
]

FORMAT_VERSION = 2
"""The newest saved-model format this Matinee reads and the one it writes.

Version 1 stored each file under its plain name (``parameters.safetensors``); version 2 stores
it under a content-addressed name (``parameters-<sha256[:12]>.safetensors``, see
:func:`stored_name`) so that a new save can be written beside the old one and committed by
replacing ``manifest.json`` alone. Both are read.
"""

MANIFEST_NAME = "manifest.json"

_HEX64 = re.compile(r"[0-9a-f]{64}")

_VERSIONED_LIBRARIES = ("matinee", "numpy", "scipy", "safetensors", "polars", "torch")


def stored_name(name: str, digest: str, format_version: int = FORMAT_VERSION) -> str:
    """The name on disk of the file ``name`` whose sha256 is ``digest``.

    Format 1 keeps ``name``; format 2 puts the first 12 hex digits of ``digest`` before the
    extension, so that files of two saves never share a name unless they share their bytes.
    """
    if format_version < 2:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        return f"{name}-{digest[:12]}"
    return f"{stem}-{digest[:12]}.{suffix}"


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a saved model's numbers may depend on."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@dataclass(frozen=True)
class ArraySpec:
    """Shape and dtype of one saved array."""

    shape: tuple[int, ...]
    dtype: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"shape": list(self.shape), "dtype": self.dtype}


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """The parsed content of ``manifest.json``."""

    model: str
    """Registry name of the model class."""
    config: dict[str, Any]
    """``config.to_dict()`` of the model."""
    arrays: dict[str, ArraySpec]
    """Every array in ``parameters.safetensors``, by name."""
    files: dict[str, str]
    """File name -> sha256 hex digest; the file on disk is :meth:`stored` gives its name on disk."""
    data_fingerprint: str = ""
    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    """Free-form context, for example the dataset name and split the CLI trained on."""
    versions: dict[str, str] = field(default_factory=library_versions)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    format_version: int = FORMAT_VERSION

    def stored(self, name: str) -> str:
        """The name on disk of the listed file ``name`` (see :func:`stored_name`)."""
        return stored_name(name, self.files[name], self.format_version)

    def to_json(self) -> str:
        """The manifest as indented JSON text."""
        data = {
            "format_version": self.format_version,
            "model": self.model,
            "config": self.config,
            "data_fingerprint": self.data_fingerprint,
            "history": self.history,
            "metrics": self.metrics,
            "extra": self.extra,
            "versions": self.versions,
            "created": self.created,
            "files": self.files,
            "arrays": {name: spec.to_dict() for name, spec in self.arrays.items()},
        }
        return json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = MANIFEST_NAME) -> Manifest:
        """Parse and check manifest text; raise :class:`ModelFormatError` naming what is wrong."""
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except json.JSONDecodeError as error:
            raise ModelFormatError(
                f"{source} is not valid JSON ({error.msg} at line {error.lineno})"
            ) from None
        if not isinstance(data, dict):
            raise ModelFormatError(f"{source} must hold a JSON object")
        version = _typed(data, "format_version", int, source)
        if version > FORMAT_VERSION:
            raise ModelFormatError(
                f"{source}: saved by a newer Matinee (format version {version}; this version "
                f"reads up to {FORMAT_VERSION}); upgrade Matinee to load it"
            )
        if version < 1:
            raise ModelFormatError(f"{source}: format_version must be >= 1, got {version}")
        return cls(
            format_version=version,
            model=_typed(data, "model", str, source),
            config=_typed(data, "config", dict, source),
            arrays=_array_specs(_typed(data, "arrays", dict, source), source),
            files=_file_digests(_typed(data, "files", dict, source), source),
            data_fingerprint=_typed(data, "data_fingerprint", str, source),
            history=_history(_typed(data, "history", list, source), source),
            metrics=_metrics(_typed(data, "metrics", dict, source), source),
            extra=_typed(data, "extra", dict, source),
            versions=_typed(data, "versions", dict, source),
            created=_typed(data, "created", str, source),
        )


def _no_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a JSON number", name, 0)


def _typed(data: dict[str, Any], key: str, kind: type, source: str) -> Any:
    if key not in data:
        raise ModelFormatError(f"{source} lacks the key {key!r}")
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ModelFormatError(
            f"{source}: {key!r} must be a JSON {kind.__name__}, got {type(value).__name__}"
        )
    return value


def _metrics(raw: dict[str, Any], source: str) -> dict[str, float]:
    for name, value in raw.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ModelFormatError(f"{source}: metric {name!r} must be a number, got {value!r}")
    return raw


def _history(raw: list[Any], source: str) -> list[dict[str, float]]:
    for record in raw:
        if not isinstance(record, dict) or not all(
            isinstance(value, int | float) and not isinstance(value, bool)
            for value in record.values()
        ):
            raise ModelFormatError(
                f"{source}: 'history' must be a list of {{name: number}} objects"
            )
    return raw


def _array_specs(raw: dict[str, Any], source: str) -> dict[str, ArraySpec]:
    specs = {}
    for name, spec in raw.items():
        shape = spec.get("shape") if isinstance(spec, dict) else None
        dtype = spec.get("dtype") if isinstance(spec, dict) else None
        if (
            not isinstance(shape, list)
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
            or not isinstance(dtype, str)
        ):
            raise ModelFormatError(f"{source}: array {name!r} needs a shape list and a dtype")
        specs[name] = ArraySpec(tuple(shape), dtype)
    return specs


def _file_digests(raw: dict[str, Any], source: str) -> dict[str, str]:
    for name, digest in raw.items():
        unsafe = name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/")
        if unsafe or "/" in name or "\\" in name or name in ("", ".", MANIFEST_NAME):
            raise ModelFormatError(f"{source}: file name {name!r} must be a plain file name")
        if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            raise ModelFormatError(f"{source}: file {name!r} needs a sha256 hex digest")
    return dict(raw)
