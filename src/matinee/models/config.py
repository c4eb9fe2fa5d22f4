"""Config: the frozen, typed, keyword-only hyperparameters every model declares.

A model's config is a frozen dataclass whose fields each carry a docstring. Construction only
stores and validates: field types are checked against the annotations, and each config adds its
own range checks in :meth:`Config.validate` with the helpers below.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self, get_args, get_origin

from matinee.errors import ConfigError

__all__ = ["Config", "EpochConfig", "check_fraction", "check_range"]


def check_range(
    config: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raise :class:`ConfigError` unless ``config.<name>`` lies in the given range (None passes)."""
    value = getattr(config, name)
    if value is None:
        return
    if low is not None and (value <= low if low_open else value < low):
        bound = ">" if low_open else ">="
        raise ConfigError(f"{type(config).__name__}.{name} must be {bound} {low}, got {value!r}")
    if high is not None and (value >= high if high_open else value > high):
        bound = "<" if high_open else "<="
        raise ConfigError(f"{type(config).__name__}.{name} must be {bound} {high}, got {value!r}")


def check_fraction(config: object, name: str) -> None:
    """Raise :class:`ConfigError` unless ``config.<name>`` is in [0, 1)."""
    check_range(config, name, low=0.0, high=1.0, high_open=True)


def _matches(value: object, hint: object) -> bool:
    origin = get_origin(hint)
    if hint is Any:
        return True
    if origin is Literal:
        return value in get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is tuple:
        args = get_args(hint)
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_matches(item, args[0]) for item in value)
        return len(args) == len(value) and all(map(_matches, value, args))
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


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
            if _matches(value, arg):
                return value
        raise ValueError(text)
    if origin is Literal:
        for choice in get_args(hint):
            if str(choice) == text:
                return choice
        raise ValueError(text)
    if origin is tuple:
        parts = [part for part in text.replace(",", " ").replace("-", " ").split() if part]
        inner = get_args(hint)[0]
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


@dataclass(frozen=True, kw_only=True)
class Config:
    """Base of every model's hyperparameters."""

    seed: int = 0
    """Seed of every random choice made in ``fit`` (initialisation, shuffling, dropout)."""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not _matches(value, hints[field.name]):
                raise ConfigError(
                    f"{type(self).__name__}.{field.name} must be of type "
                    f"{_describe(hints[field.name])}, got {value!r}"
                )
            if hints[field.name] is float and isinstance(value, int):
                object.__setattr__(self, field.name, float(value))
            _check_finite(self, field.name, getattr(self, field.name))
        self.validate()

    def validate(self) -> None:
        """Check value ranges; subclasses extend this and call ``super().validate()``."""
        check_range(self, "seed", low=0)

    def to_dict(self) -> dict[str, Any]:
        """Field values as plain JSON-ready data (tuples become lists)."""
        return {
            field.name: list(value) if isinstance(value, tuple) else value
            for field in dataclasses.fields(self)
            for value in [getattr(self, field.name)]
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build a config from :meth:`to_dict` output; unknown keys raise :class:`ConfigError`."""
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(
                f"{cls.__name__} has no field(s) {', '.join(unknown)}; "
                f"valid: {', '.join(sorted(names))}"
            )
        hints = typing.get_type_hints(cls)
        values = {
            key: tuple(value)
            if isinstance(value, list) and get_origin(hints[key]) is tuple
            else value
            for key, value in data.items()
        }
        return cls(**values)  # type: ignore[arg-type]

    def with_text_overrides(self, overrides: Mapping[str, str]) -> Self:
        """A copy with fields set from text (the CLI's ``--set key=value``)."""
        hints = typing.get_type_hints(type(self))
        values: dict[str, object] = {}
        for key, text in overrides.items():
            if key not in hints:
                names = ", ".join(field.name for field in dataclasses.fields(self))
                raise ConfigError(f"{type(self).__name__} has no field {key!r}; valid: {names}")
            try:
                values[key] = _coerce_text(text, hints[key])
            except ValueError:
                raise ConfigError(
                    f"{type(self).__name__}.{key}: cannot read {text!r} as {_describe(hints[key])}"
                ) from None
        return dataclasses.replace(self, **values)  # type: ignore[arg-type]

    @classmethod
    def field_docs(cls) -> dict[str, str]:
        """Each field's type and default, for help texts."""
        hints = typing.get_type_hints(cls)
        return {
            field.name: f"{_describe(hints[field.name])} = {field.default!r}"
            for field in dataclasses.fields(cls)
        }


def _describe(hint: object) -> str:
    origin = get_origin(hint)
    if origin is Literal:
        return " | ".join(repr(choice) for choice in get_args(hint))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_describe(arg) for arg in get_args(hint))
    if hint is type(None):
        return "None"
    return getattr(hint, "__name__", str(hint))


@dataclass(frozen=True, kw_only=True)
class EpochConfig(Config):
    """Hyperparameters shared by models trained epoch by epoch through the training loop."""

    epochs: int = 20
    """Most passes over the training data."""

    patience: int | None = None
    """Stop after this many epochs without a better validation loss (None: never stop early).
    Needs a validation set in ``fit``."""

    min_delta: float = 0.0
    """Smallest drop in validation loss that counts as better."""

    restore_best: bool = True
    """After training with a validation set, go back to the weights of the best epoch."""

    def validate(self) -> None:
        """Check the loop's settings."""
        super().validate()
        check_range(self, "epochs", low=1)
        check_range(self, "patience", low=1)
        check_range(self, "min_delta", low=0.0)


def _check_finite(config: object, name: str, value: object) -> None:
    """Refuse NaN and infinite numbers in a config field (alone or inside a tuple).

    Every comparison with NaN is False, so a NaN would pass each range check in ``validate``.
    """
    values = value if isinstance(value, tuple) else (value,)
    for item in values:
        if isinstance(item, float) and not math.isfinite(item):
            raise ConfigError(f"{type(config).__name__}.{name} must be a finite number, got {item}")
