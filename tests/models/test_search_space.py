"""``space()``: a (low, high) pair is the log-scale range; other dimensions pass through."""

from __future__ import annotations

import pytest

from matinee.errors import ConfigError
from matinee.models.search import Choice, FloatRange, IntRange, space


def test_int_pair_is_a_log_int_range_and_float_pair_a_log_float_range() -> None:
    built = space(n_factors=(8, 200), reg=(0.01, 0.2), mixed=(1, 2.5))
    assert built == {
        "n_factors": IntRange(8, 200, log=True),
        "reg": FloatRange(0.01, 0.2, log=True),
        "mixed": FloatRange(1.0, 2.5, log=True),
    }
    mixed = built["mixed"]
    assert isinstance(mixed, FloatRange) and type(mixed.low) is float


def test_dimensions_pass_through_and_the_space_is_read_only() -> None:
    built = space(epochs=IntRange(5, 30), kind=Choice(("item", "user")))
    assert built["epochs"] == IntRange(5, 30) and built["kind"] == Choice(("item", "user"))
    with pytest.raises(TypeError):
        built["epochs"] = IntRange(1, 2)  # type: ignore[index]


def test_a_pair_is_checked_like_a_log_range() -> None:
    with pytest.raises(ConfigError, match="low > 0"):
        space(reg=(0.0, 1.0))
    with pytest.raises(ConfigError, match="low <= high"):
        space(n_factors=(200, 8))
