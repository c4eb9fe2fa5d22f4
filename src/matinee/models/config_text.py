"""Config values from text: what ``--set key=value`` means, for the CLI and the server.

Kept out of :mod:`matinee.models.config`, whose configs only store and validate typed values,
and inside ``models`` because a model reads it too: ``blend`` keeps its parts' settings as text.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

from matinee.errors import ConfigError
from matinee.models.config import FIELD_RENAMES, Config, describe_type, matches_type

__all__ = ["config_from_file", "read_config_file", "with_text_overrides"]

C = TypeVar("C", bound=Config)


def with_text_overrides(config: C, overrides: Mapping[str, str]) -> C:
    """A copy of ``config`` with fields set from text (``--set key=value``).

    Raises:
        ConfigError: an unknown field (naming its new name if it was renamed), or text that
            cannot be read as the field's type.
    """
    hints = typing.get_type_hints(type(config))
    values: dict[str, object] = {}
    for key, text in overrides.items():
        if key not in hints:
            raise ConfigError(_unknown_field(config, key))
        try:
            values[key] = _coerce_text(text, hints[key])
        except ValueError:
            wanted = describe_type(hints[key])
            raise ConfigError(
                f"{type(config).__name__}.{key}: cannot read {text!r} as {wanted}"
            ) from None
    return dataclasses.replace(config, **values)  # type: ignore[arg-type]


def read_config_file(path: Path) -> tuple[str | None, dict[str, Any]]:
    """The model name (None if the file names none) and config fields of a JSON config file.

    A config file is ``{"model": NAME, "config": {field: value, ...}}``, as ``matinee tune``
    writes ``best.json``; a bare ``{field: value, ...}`` object is read as the config alone.

    Raises:
        ConfigError: a file that cannot be read, is not JSON, or holds no object.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {path} cannot be read: {error}") from None
    except ValueError as error:
        raise ConfigError(f"config file {path} is not JSON: {error}") from None
    if isinstance(data, dict) and isinstance(data.get("config"), dict):
        model = data.get("model")
        return (model if isinstance(model, str) else None), dict(data["config"])
    if isinstance(data, dict) and "model" not in data:
        return None, dict(data)
    raise ConfigError(f'config file {path}: write {{"model": NAME, "config": {{...}}}}')


def config_from_file(config_type: type[C], model: str, path: Path) -> C:
    """The config of ``model`` read from the file at ``path`` (fields not given keep defaults).

    Raises:
        ConfigError: the file names another model, or holds fields the config lacks.
    """
    named, fields = read_config_file(path)
    if named is not None and named != model:
        raise ConfigError(f"config file {path} is for model {named!r}, not {model!r}")
    try:
        return config_type.from_dict(fields)
    except ConfigError as error:
        raise ConfigError(f"config file {path}: {error}") from None


def _unknown_field(config: Config, key: str) -> str:
    """The message for a field ``config`` does not have, naming a rename where there was one."""
    name = type(config).__name__
    renamed = FIELD_RENAMES.get(name, {}).get(key)
    if renamed is not None:
        return f"{name} has no field {key!r}: it is now called {renamed!r}"
    names = ", ".join(field.name for field in dataclasses.fields(config))
    return f"{name} has no field {key!r}; valid: {names}"


def _coerce_text(text: str, hint: object) -> object:
    """Turn the text of ``--set key=value`` into a value of the field's type."""
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if text.lower() in ("none", "null") and type(None) in get_args(hint):
            return None
        for arg in get_args(hint):
            if arg is type(None):
                continue
            try:
                value = _coerce_text(text, arg)
            except (ValueError, ConfigError):
                continue
            if matches_type(value, arg):
                return value
        raise ValueError(text)
    if origin is Literal:
        for choice in get_args(hint):
            if str(choice) == text:
                return choice
        raise ValueError(text)
    if origin is tuple:
        inner = get_args(hint)[0]
        spaced = (
            text.replace(",", " ") if inner is str else text.replace(",", " ").replace("-", " ")
        )
        parts = [part for part in spaced.split() if part]
        return tuple(_coerce_text(part, inner) for part in parts)
    if hint is bool:
        lowered = text.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise ValueError(text)
    if hint is int:
        return int(text)
    if hint is float:
        return float(text)
    return text
