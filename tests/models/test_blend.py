"""The stacked blend: pinned part configs, learned weights, and a saved blend with a neural part."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from matinee.errors import ConfigError
from matinee.evaluation.rating_metrics import rmse
from matinee.models.blend import Blend, BlendConfig
from matinee.models.config_text import with_text_overrides
from matinee.models.factorization.svdpp import SVDppConfig
from matinee.store.files import load_model, read_manifest, save_model
from matinee.testing import low_rank_ratings

SMALL_AUTOREC = ("autorec.hidden=16", "autorec.epochs=5", "autorec.batch_size=16")


def test_part_settings_pin_every_field_of_every_part() -> None:
    config = BlendConfig(parts=("svdpp",), part_settings=("svdpp.n_factors=7",))
    assert "svdpp.n_factors=7" in config.part_settings
    pinned = {text.partition("=")[0] for text in config.part_settings}
    assert pinned == {f"svdpp.{field.name}" for field in dataclasses.fields(SVDppConfig)}
    ((_, part),) = config.part_configs()
    assert part == SVDppConfig(n_factors=7)
    assert BlendConfig.from_dict(config.to_dict()) == config
    # Settings of models no longer blended are dropped; the kept part's stay.
    fewer = dataclasses.replace(
        BlendConfig(parts=("baseline", "svdpp"), part_settings=config.part_settings),
        parts=("svdpp",),
    )
    assert fewer.part_configs()[0][1].n_factors == 7


def test_parts_are_set_as_text_like_any_tuple_field() -> None:
    config = with_text_overrides(BlendConfig(), {"parts": "baseline,biased-mf"})
    assert config.parts == ("baseline", "biased-mf")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"parts": ()}, "distinct models"),
        ({"parts": ("svdpp", "svdpp")}, "distinct models"),
        ({"parts": ("item-knn",)}, "rating models"),
        ({"part_settings": ("nosuch.reg=1",)}, "names no model"),
        ({"part_settings": ("svdpp.colour=1",)}, "no field 'colour'"),
        ({"part_settings": ("svdpp",)}, "part.key=value"),
        ({"validation_fraction": 0.0}, "validation_fraction"),
    ],
)
def test_bad_blends_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BlendConfig(**changes)  # type: ignore[arg-type]


def test_the_blend_is_at_least_as_good_as_its_best_part() -> None:
    train, test = low_rank_ratings(3)
    config = BlendConfig(parts=("baseline", "biased-mf"), part_settings=("biased-mf.epochs=30",))
    blend = Blend(config).fit(train)
    errors = [rmse(test.rating, p.predict(test.user_idx, test.movie_idx)) for p in blend.parts_]
    blended = rmse(test.rating, blend.predict(test.user_idx, test.movie_idx))
    assert blended <= min(errors) * 1.03, (blended, errors)
    assert blend.weights_[2] > blend.weights_[1]  # biased MF outweighs the biases alone


@pytest.mark.slow
def test_a_blend_with_a_neural_part_saves_as_one_model(tmp_path: Path) -> None:
    train, test = low_rank_ratings(5)
    config = BlendConfig(parts=("baseline", "autorec"), part_settings=SMALL_AUTOREC)
    blend = Blend(config).fit(train)
    loaded = load_model(save_model(blend, tmp_path / "blend"))
    assert isinstance(loaded, Blend) and loaded.config == blend.config
    users, movies = test.user_idx, test.movie_idx
    np.testing.assert_allclose(loaded.predict(users, movies), blend.predict(users, movies))
    np.testing.assert_allclose(loaded.rank_users([0, 3]), blend.rank_users([0, 3]), atol=1e-6)
    manifest = read_manifest(tmp_path / "blend")
    assert "autorec.hidden=16" in manifest.config["part_settings"]
    assert any(name.startswith("part1.") for name in manifest.arrays)
    assert "blend_weights" in manifest.arrays
