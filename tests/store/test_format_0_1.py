"""Saved models of the 0.1 format (config fields before the one-vocabulary rename) still load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matinee.errors import ConfigError
from matinee.models import ImplicitALSConfig
from matinee.store.files import load_model, read_manifest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "saved-0.1"


@pytest.mark.parametrize("name", ["biased-mf", "ials"])
def test_a_saved_model_of_the_0_1_format_loads_and_answers_as_it_did(name: str) -> None:
    directory = FIXTURES / name
    expected = read_manifest(directory).extra["expected"]
    model = load_model(directory)
    assert model.users_ is not None and model.movies_ is not None
    users = model.users_.indices(expected["users"])
    movies = model.movies_.indices(expected["movies"])
    np.testing.assert_allclose(model.predict(users, movies), expected["predicted"], rtol=1e-6)
    np.testing.assert_allclose(model.score_users([0])[0], expected["scores_user_0"], rtol=1e-5)


def test_old_field_names_are_read_as_the_new_ones() -> None:
    manifest = read_manifest(FIXTURES / "ials")
    assert {"factors", "regularization", "init_scale"} <= set(manifest.config)
    config = load_model(FIXTURES / "ials").config
    assert isinstance(config, ImplicitALSConfig)
    assert (config.n_factors, config.reg, config.init_std) == (4, 0.1, 0.02)


def test_an_old_and_a_new_name_for_one_field_are_refused() -> None:
    with pytest.raises(ConfigError, match="n_factors"):
        ImplicitALSConfig.from_dict({"factors": 4, "n_factors": 8})
