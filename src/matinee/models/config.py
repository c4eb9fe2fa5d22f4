"""Config: the frozen, typed, keyword-only hyperparameters every model declares.

A model's config is a frozen dataclass whose fields each carry a docstring. Construction only
stores and validates: field types are checked against the annotations, and the range a field
declares with :func:`setting` is checked by :meth:`Config.validate`; a config adds checks that
span fields (or that no range can say) by extending ``validate`` with the helpers below.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self, TypedDict, TypeVar, Unpack, get_args, get_origin

from matinee.errors import ConfigError
from matinee.models.search import Dimension, space

__all__ = [
    "FIELD_RENAMES",
    "Bounds",
    "Config",
    "EpochConfig",
    "check_fraction",
    "check_layers",
    "check_range",
    "describe_type",
    "fraction",
    "matches_type",
    "setting",
]

T = TypeVar("T")

_RANGE = "matinee.range"
"""Key of a field's metadata that holds its :func:`check_range` bounds."""

FIELD_RENAMES: dict[str, dict[str, str]] = {
    "ImplicitALSConfig": {
        "factors": "n_factors",
        "regularization": "reg",
        "init_scale": "init_std",
    },
    "EASEConfig": {"regularization": "reg"},
    "MatrixNMFConfig": {"n_components": "n_factors", "alpha": "reg"},
    "EmbeddingNetConfig": {
        "factors": "n_factors",
        "embedding_l2": "reg",
        "fold_in_l2": "reg_fold_in",
    },
    "AutoRecConfig": {"l2": "reg", "l1": "reg_l1", "fold_in_l2": "reg_fold_in"},
    "MovieAutoencoderConfig": {
        "hidden_units": "n_factors",
        "encoder_l2": "reg",
        "fold_in_l2": "reg_fold_in",
    },
}
"""Config class name -> {field name before the 0.2 vocabulary: its name now}.

Saved models of the earlier format hold the old names; :meth:`Config.from_dict` reads them
through this one table, so that they still load."""


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


def check_layers(config: object, name: str) -> None:
    """Raise :class:`ConfigError` unless ``config.<name>`` is non-empty and holds positive sizes."""
    value = getattr(config, name)
    if not value or min(value) < 1:
        raise ConfigError(
            f"{type(config).__name__}.{name} must be positive layer sizes, got {value}"
        )


class Bounds(TypedDict, total=False):
    """The range of a field, as the keyword arguments of :func:`check_range` name it."""

    low: float
    high: float
    low_open: bool
    high_open: bool


def setting(default: T, **bounds: Unpack[Bounds]) -> T:
    """A config field's default with the range :meth:`Config.validate` holds it to.

    The bounds mean what they mean in :func:`check_range`. A subclass that redeclares the field
    only to change its default keeps the bounds declared above it.
    """
    return dataclasses.field(default=default, metadata={_RANGE: bounds})


def fraction(default: float) -> float:
    """A config field's default whose values must lie in [0, 1) (as :func:`check_fraction`)."""
    return setting(default, low=0.0, high=1.0, high_open=True)


_RANGES: dict[type, dict[str, Bounds]] = {}
"""Config class -> its fields' declared bounds (worked out once per class)."""


def _declared_ranges(cls: type) -> dict[str, Bounds]:
    """Field name -> the bounds the nearest class of ``cls``'s MRO declares for it."""
    if cls in _RANGES:
        return _RANGES[cls]
    ranges: dict[str, Bounds] = {}
    for klass in reversed(cls.__mro__):
        for name, field in vars(klass).get("__dataclass_fields__", {}).items():
            if _RANGE in field.metadata:
                ranges[name] = field.metadata[_RANGE]
    names = [field.name for field in dataclasses.fields(cls)]
    _RANGES[cls] = {name: ranges[name] for name in names if name in ranges}
    return _RANGES[cls]


def matches_type(value: object, hint: object) -> bool:
    """Whether ``value`` is of the type ``hint`` (the annotations configs use)."""
    origin = get_origin(hint)
    if hint is Any:
        return True
    if origin is Literal:
        return value in get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(matches_type(value, arg) for arg in get_args(hint))
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
            return all(matches_type(item, args[0]) for item in value)
        return len(args) == len(value) and all(map(matches_type, value, args))
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


@dataclass(frozen=True, kw_only=True)
class Config:
    """Base of every model's hyperparameters."""

    SEARCH_SPACE: ClassVar[Mapping[str, Dimension]] = space()
    """The fields ``matinee tune`` searches by default: ``space(field=range, ...)``, none here."""

    seed: int = setting(0, low=0)
    """Seed of every random choice made in ``fit`` (initialisation, shuffling, dropout)."""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not matches_type(value, hints[field.name]):
                raise ConfigError(
                    f"{type(self).__name__}.{field.name} must be of type "
                    f"{describe_type(hints[field.name])}, got {value!r}"
                )
            if hints[field.name] is float and isinstance(value, int):
                object.__setattr__(self, field.name, float(value))
            _check_finite(self, field.name, getattr(self, field.name))
        self.validate()

    def validate(self) -> None:
        """Check each field's declared range; subclasses extend this, calling the parent first."""
        for name, bounds in _declared_ranges(type(self)).items():
            check_range(self, name, **bounds)

    def to_dict(self) -> dict[str, Any]:
        """Field values as plain JSON-ready data (tuples become lists)."""
        return {
            field.name: list(value) if isinstance(value, tuple) else value
            for field in dataclasses.fields(self)
            for value in [getattr(self, field.name)]
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build a config from :meth:`to_dict` output; unknown keys raise :class:`ConfigError`.

        Field names of the earlier vocabulary (:data:`FIELD_RENAMES`) are read as their new names.
        """
        data = _renamed(cls, data)
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

    @classmethod
    def field_docs(cls) -> dict[str, str]:
        """Each field's type and default, for help texts."""
        hints = typing.get_type_hints(cls)
        return {
            field.name: f"{describe_type(hints[field.name])} = {field.default!r}"
            for field in dataclasses.fields(cls)
        }


def _renamed(cls: type[Config], data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with old field names of ``cls`` replaced by their new ones."""
    renames = FIELD_RENAMES.get(cls.__name__, {})
    values: dict[str, Any] = {}
    for key, value in data.items():
        new = renames.get(key, key)
        if new in values:
            raise ConfigError(f"{cls.__name__}: field {new!r} given twice (once as {key!r})")
        values[new] = value
    return values


def describe_type(hint: object) -> str:
    """A short readable name of a type annotation, for messages and help."""
    origin = get_origin(hint)
    if origin is Literal:
        return " | ".join(repr(choice) for choice in get_args(hint))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(describe_type(arg) for arg in get_args(hint))
    if hint is type(None):
        return "None"
    return getattr(hint, "__name__", str(hint))


@dataclass(frozen=True, kw_only=True)
class EpochConfig(Config):
    """Hyperparameters shared by models trained epoch by epoch through the training loop."""

    epochs: int = setting(20, low=1)
    """Most passes over the training data."""

    patience: int | None = setting(None, low=1)
    """Stop after this many epochs without a better validation loss (None: never stop early).
    Needs a validation set in ``fit``."""

    min_delta: float = setting(0.0, low=0.0)
    """Smallest drop in validation loss that counts as better."""

    restore_best: bool = True
    """After training with a validation set, go back to the weights of the best epoch."""


def _check_finite(config: object, name: str, value: object) -> None:
    """Refuse NaN and infinite numbers in a config field (alone or inside a tuple).

    Every comparison with NaN is False, so a NaN would pass each range check in ``validate``.
    """
    values = value if isinstance(value, tuple) else (value,)
    for item in values:
        if isinstance(item, float) and not math.isfinite(item):
            raise ConfigError(f"{type(config).__name__}.{name} must be a finite number, got {item}")
