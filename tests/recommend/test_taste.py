"""New users with one taste get lists of that taste, from every model (issue 17).

Each person rated only films of one kind (:func:`matinee.testing.tastes.one_taste_person`: the
eight films most rated in ml-100k among the films mostly of that kind, at 5 and 4 stars). A list
passes when most of its ten films (more than half) are of the kind and none was rated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from matinee.calibration import Strength
from matinee.data.dataset import Dataset
from matinee.data.loader import load_dataset
from matinee.models.base import Recommender
from matinee.models.registry import model_class
from matinee.settings import Settings
from matinee.testing.tastes import (
    LIST_LENGTH,
    TASTES,
    VALIDATION_TASTES,
    taste_list,
    taste_share,
)

FAST_MODELS = [
    "baseline",
    "mf",
    "biased-mf",
    "svdpp",
    "nmf",
    "nmf-matrix",
    "ease",
    "ials",
    "item-knn",
    "rp3beta",
]

NEURAL_MODELS = ["embedding-net", "autorec", "movie-autoencoder"]
"""Slow to fit on two cores, so their cases are marked ``slow`` (issue 17, item 3)."""


@pytest.fixture(scope="module")
def ml100k(settings: Settings) -> Dataset:
    return load_dataset("ml-100k", settings=settings)


@pytest.fixture(scope="module")
def fitted(ml100k: Dataset) -> Callable[[str], Recommender[Any]]:
    """Fit each model once on all of ml-100k with its default config."""
    cache: dict[str, Recommender[Any]] = {}

    def get(name: str) -> Recommender[Any]:
        if name not in cache:
            cache[name] = model_class(name)().fit(ml100k.ratings)
        return cache[name]

    return get


MORE_TASTES: dict[str, frozenset[str]] = {**TASTES, **VALIDATION_TASTES}
"""The four tastes and six more, to check that the rankers' damping helps taste in general."""

DAMPED_RANKERS = ["ease", "ials", "item-knn"]
"""The rankers whose new-user lists are popularity damped (rp3beta's walk has ``beta``)."""


def _share(
    model: Recommender[Any], ml100k: Dataset, taste: str, calibration: Strength | None = None
) -> float:
    """Share of the kind in the person's list; checks that no rated film came back.

    ``calibration`` None is the lists people get (the new-user default); 0 the model's order.
    """
    rated, lists = taste_list(model, ml100k, MORE_TASTES[taste], calibration)
    listed = lists["movie_id"].to_list()
    assert len(listed) == LIST_LENGTH
    assert not set(listed) & set(rated), "a rated film came back"
    if model.predicts_ratings:
        low, high = model.rating_scale_
        assert lists["rating"].min() >= low
        assert lists["rating"].max() <= high
    return taste_share(lists, ml100k, MORE_TASTES[taste])


def _majority_cases(names: list[str]) -> list[Any]:
    return [
        pytest.param(
            name,
            taste,
            marks=[pytest.mark.slow] if name in NEURAL_MODELS else [],
        )
        for name in names
        for taste in TASTES
    ]


@pytest.mark.parametrize(("name", "taste"), _majority_cases(FAST_MODELS + NEURAL_MODELS))
def test_one_taste_gets_lists_mostly_of_that_taste(
    fitted: Callable[[str], Recommender[Any]], ml100k: Dataset, name: str, taste: str
) -> None:
    share = _share(fitted(name), ml100k, taste)
    assert share > 0.5, f"{name}: the {taste} lover got {share:.0%} of the kind"


@pytest.mark.parametrize("taste", list(TASTES))
@pytest.mark.parametrize(
    "name", FAST_MODELS + [pytest.param(name, marks=pytest.mark.slow) for name in NEURAL_MODELS]
)
def test_rated_films_never_come_back_and_ratings_stay_on_the_scale(
    fitted: Callable[[str], Recommender[Any]], ml100k: Dataset, name: str, taste: str
) -> None:
    assert 0.0 <= _share(fitted(name), ml100k, taste) <= 1.0


@pytest.mark.parametrize("name", DAMPED_RANKERS)
def test_rankers_popularity_damping_follows_taste_more(
    fitted: Callable[[str], Recommender[Any]], ml100k: Dataset, name: str
) -> None:
    """Over ten tastes, the damped fold-in lists hold more of the kind (uncalibrated)."""
    model = fitted(name)
    undamped_config = dataclasses.replace(model.config, rank_popularity_exponent=0.0)
    undamped = type(model).from_parameters(undamped_config, model.parameters())
    damped_share = sum(_share(model, ml100k, taste, 0.0) for taste in MORE_TASTES)
    undamped_share = sum(_share(undamped, ml100k, taste, 0.0) for taste in MORE_TASTES)
    assert damped_share > undamped_share


def test_popular_has_no_taste_so_the_cases_can_fail(
    fitted: Callable[[str], Recommender[Any]], ml100k: Dataset
) -> None:
    """The most-popular list (in its own order) is mostly of the kind for at most one taste."""
    shares = [_share(fitted("popular"), ml100k, taste, 0.0) for taste in TASTES]
    assert sum(share > 0.5 for share in shares) <= 1
