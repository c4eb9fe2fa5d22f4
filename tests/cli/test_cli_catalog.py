from __future__ import annotations

import json

from typer.testing import CliRunner

from matinee.cli import app
from matinee.cli.catalog import field_descriptions
from matinee.models.factorization.mf import BiasedMFConfig
from matinee.models.registry import available_models

runner = CliRunner()


def test_models_lists_every_registered_model() -> None:
    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    names = [row["name"] for row in json.loads(result.stdout)]
    assert sorted(names) == available_models()


def test_models_shows_settings_with_docs() -> None:
    result = runner.invoke(app, ["models", "biased-mf", "--json"])
    assert result.exit_code == 0, result.output
    settings = {row["field"]: row for row in json.loads(result.stdout)["settings"]}
    assert settings["n_factors"]["default"] == BiasedMFConfig().n_factors
    assert settings["solver"]["type"] == "'sgd' | 'als'"
    assert "vector" in settings["n_factors"]["description"]


def test_unknown_model_is_a_clear_error() -> None:
    result = runner.invoke(app, ["models", "nope"])
    assert result.exit_code != 0
    assert "unknown model 'nope'" in str(result.exception) + result.output


def test_every_config_field_is_documented() -> None:
    from matinee.models.registry import model_class

    for name in available_models():
        config_type = model_class(name).config_type
        docs = field_descriptions(config_type)
        missing = [f for f in config_type.__dataclass_fields__ if not docs.get(f)]
        assert not missing, f"{name}: undocumented config fields {missing}"
