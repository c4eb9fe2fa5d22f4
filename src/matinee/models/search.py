"""Search spaces: the ranges of config fields that tuning explores.

Each config class declares its default space beside its fields, as the class attribute
``SEARCH_SPACE`` (field name -> :class:`IntRange`, :class:`FloatRange` or :class:`Choice`); the
base config's is empty. ``matinee tune --space key=low:high[:log]`` overrides one field through
:func:`parse_dimension`. Nothing here samples: the tuner turns each dimension into an Optuna
suggestion, so the models stay free of the optional ``tune`` extra.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar, get_args, get_origin

from matinee.errors import ConfigError

__all__ = [
    "Choice",
    "Dimension",
    "FloatRange",
    "IntRange",
    "LogBounds",
    "parse_dimension",
    "search_space",
    "space",
]

N = TypeVar("N", int, float)


@dataclass(frozen=True)
class _Range(Generic[N]):
    """Numbers from ``low`` to ``high``, evenly or on a log scale."""

    low: N
    high: N
    log: bool = False

    _FORMAT: ClassVar[str] = ""
    """How ``describe`` writes a bound (a format spec)."""

    def __post_init__(self) -> None:
        _check_bounds(self.low, self.high, self.log)

    def describe(self) -> str:
        """The range as ``--space`` writes it."""
        low, high = format(self.low, self._FORMAT), format(self.high, self._FORMAT)
        return f"{low}:{high}" + (":log" if self.log else "")


@dataclass(frozen=True)
class IntRange(_Range[int]):
    """Integers from ``low`` to ``high`` (both included), evenly or on a log scale."""


@dataclass(frozen=True)
class FloatRange(_Range[float]):
    """Real numbers from ``low`` to ``high``, evenly or on a log scale."""

    _FORMAT: ClassVar[str] = "g"


@dataclass(frozen=True)
class Choice:
    """One of a few values (categorical)."""

    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        if len(self.values) < 1:
            raise ConfigError("a choice needs at least one value")

    def describe(self) -> str:
        """The choices as ``--space`` writes them."""
        return ",".join(str(value) for value in self.values)


Dimension = IntRange | FloatRange | Choice
"""One searched field."""


def _check_bounds(low: float, high: float, log: bool) -> None:
    if not low <= high:
        raise ConfigError(f"a search range needs low <= high, got {low}:{high}")
    if log and low <= 0:
        raise ConfigError(f"a log-scale search range needs low > 0, got {low}:{high}")


LogBounds = tuple[int, int] | tuple[float, float]
"""``(low, high)`` of a log-scale range, as :func:`space` takes it."""


def space(**dimensions: Dimension | LogBounds) -> Mapping[str, Dimension]:
    """A config's ``SEARCH_SPACE``: field name -> its range, read-only.

    Sizes, rates and penalties are searched on a log scale in every model, so a ``(low, high)``
    pair stands for that range: :class:`IntRange` when both bounds are ``int``, else
    :class:`FloatRange`. Any other range is given as a dimension.
    """
    return types.MappingProxyType({name: _log_range(value) for name, value in dimensions.items()})


def _log_range(value: Dimension | LogBounds) -> Dimension:
    """``value`` as a dimension: a ``(low, high)`` pair becomes a log-scale range."""
    if not isinstance(value, tuple):
        return value
    low, high = value
    if isinstance(low, int) and isinstance(high, int):
        return IntRange(low, high, log=True)
    return FloatRange(float(low), float(high), log=True)


def search_space(config_type: type[Any]) -> dict[str, Dimension]:
    """The default search space of a config class (empty when it declares none)."""
    space: Mapping[str, Dimension] = getattr(config_type, "SEARCH_SPACE", {})
    names = {field.name for field in dataclasses.fields(config_type)}
    unknown = sorted(set(space) - names)
    if unknown:
        raise ConfigError(f"{config_type.__name__}.SEARCH_SPACE names no field(s) {unknown}")
    return dict(space)


def parse_dimension(config_type: type[Any], text: str) -> tuple[str, Dimension]:
    """Read ``key=low:high[:log]`` (numbers) or ``key=a,b,c`` (choices) for a config field.

    The field's type decides how the bounds are read: an ``int`` field gives an
    :class:`IntRange`, a ``float`` field a :class:`FloatRange`; a ``Literal`` or ``bool`` field
    takes comma-separated choices.

    Raises:
        ConfigError: no ``=``, an unknown field, or bounds that cannot be read.
    """
    key, eq, value = text.partition("=")
    key, value = key.strip(), value.strip()
    hints = typing.get_type_hints(config_type)
    if not eq or not key or not value:
        raise ConfigError(f"--space {text!r}: write key=low:high[:log] or key=a,b,c")
    if key not in hints or key == "seed":
        names = ", ".join(name for name in hints if name != "seed")
        raise ConfigError(f"--space {text!r}: {config_type.__name__} has no field {key!r}: {names}")
    hint = _plain(hints[key])
    try:
        return key, _dimension(hint, value)
    except ConfigError as error:
        raise ConfigError(f"--space {text!r}: {error}") from None
    except (ValueError, KeyError):
        raise ConfigError(
            f"--space {text!r}: cannot read {value!r} as a range of {key} "
            "(low:high, low:high:log, or a,b,c for choices)"
        ) from None


def _plain(hint: object) -> object:
    """``hint`` without ``None`` (an optional field is searched over its values)."""
    if get_origin(hint) in (typing.Union, types.UnionType):
        args = [arg for arg in get_args(hint) if arg is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


def _dimension(hint: object, value: str) -> Dimension:
    if get_origin(hint) is Literal:
        allowed = {str(choice): choice for choice in get_args(hint)}
        return Choice(tuple(allowed[part.strip()] for part in value.split(",")))
    if hint is bool:
        words = {"true": True, "false": False}
        return Choice(tuple(words[part.strip().lower()] for part in value.split(",")))
    if hint not in (int, float):
        raise ValueError(value)
    parts = value.split(":")
    log = len(parts) == 3 and parts[2].strip().lower() == "log"
    if len(parts) not in (2, 3) or (len(parts) == 3 and not log):
        raise ValueError(value)
    if hint is int:
        return IntRange(int(parts[0]), int(parts[1]), log)
    return FloatRange(float(parts[0]), float(parts[1]), log)
