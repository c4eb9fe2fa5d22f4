from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from typing import Literal

import pytest

from matinee.errors import ConfigError
from matinee.models import EASEConfig
from matinee.models.config import Config, EpochConfig, check_range
from matinee.models.config_text import with_text_overrides


@dataclass(frozen=True, kw_only=True)
class ExampleConfig(EpochConfig):
    n_factors: int = 8
    """Latent dimensions."""
    learning_rate: float = 0.01
    """Step size."""
    solver: Literal["sgd", "als"] = "sgd"
    """How to solve."""
    hidden: tuple[int, ...] = (16, 8)
    """Layer sizes."""
    threshold: float | None = None
    """Optional cut."""

    def validate(self) -> None:
        super().validate()
        check_range(self, "n_factors", low=1)
        check_range(self, "learning_rate", low=0.0, low_open=True)


def test_defaults_validate_and_are_frozen() -> None:
    config = ExampleConfig()
    assert config.epochs == 20
    with pytest.raises(FrozenInstanceError):
        config.n_factors = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("n_factors", 0, "n_factors must be >= 1"),
        ("learning_rate", 0.0, "learning_rate must be > 0"),
        ("epochs", 0, "epochs must be >= 1"),
        ("seed", -1, "seed must be >= 0"),
        ("patience", 0, "patience must be >= 1"),
    ],
)
def test_out_of_range_values_name_the_field(field: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ExampleConfig(**{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_factors", 2.5),
        ("n_factors", True),
        ("solver", "adam"),
        ("hidden", [1, 2]),
        ("seed", "1"),
    ],
)
def test_wrong_types_are_rejected(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=field):
        ExampleConfig(**{field: value})


def test_int_given_for_float_becomes_float() -> None:
    assert isinstance(ExampleConfig(learning_rate=1).learning_rate, float)


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        ExampleConfig(1)  # type: ignore[misc]


def test_dict_round_trip() -> None:
    config = ExampleConfig(n_factors=3, solver="als", hidden=(4,), threshold=3.5, patience=2)
    data = config.to_dict()
    assert data["hidden"] == [4]
    assert ExampleConfig.from_dict(data) == config


def test_from_dict_lists_unknown_fields() -> None:
    with pytest.raises(ConfigError, match="no field\\(s\\) bogus"):
        ExampleConfig.from_dict({"bogus": 1})


def test_text_overrides_coerce_to_field_types() -> None:
    config = with_text_overrides(
        ExampleConfig(),
        {
            "n_factors": "12",
            "learning_rate": "0.5",
            "solver": "als",
            "hidden": "32,16",
            "threshold": "none",
            "restore_best": "false",
        },
    )
    assert config == ExampleConfig(
        n_factors=12, learning_rate=0.5, solver="als", hidden=(32, 16), restore_best=False
    )
    assert with_text_overrides(ExampleConfig(), {"threshold": "4"}).threshold == 4.0


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("n_factors", "many", "cannot read 'many'"),
        ("nope", "1", "no field 'nope'"),
        ("n_factors", "0", "must be >= 1"),
    ],
)
def test_bad_text_overrides(key: str, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        with_text_overrides(ExampleConfig(), {key: text})


def test_field_docs_list_every_field() -> None:
    docs = ExampleConfig.field_docs()
    assert docs["solver"] == "'sgd' | 'als' = 'sgd'"
    assert set(docs) >= {"seed", "epochs", "n_factors"}


def test_base_config_has_seed_only() -> None:
    assert Config().to_dict() == {"seed": 0}


def test_a_renamed_field_in_text_names_its_new_name() -> None:
    with pytest.raises(ConfigError, match="now called 'reg'"):
        with_text_overrides(EASEConfig(), {"regularization": "10"})
