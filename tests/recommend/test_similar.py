from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from matinee.data.dataset import Dataset
from matinee.data.loader import load_dataset
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, UnknownIdError
from matinee.models.baselines.popular import MostPopular
from matinee.models.factorization.ials import ImplicitALS, ImplicitALSConfig
from matinee.models.neighbours.ease import EASE, EASEConfig
from matinee.models.neighbours.knn import ItemKNN
from matinee.recommend import (
    MovieFilter,
    find_movies,
    movie_similarity_scores,
    normalise_title,
    similar_movies,
)
from matinee.settings import Settings


@pytest.fixture(scope="module")
def latest(settings: Settings) -> Dataset:
    return load_dataset("ml-latest-small", settings=settings)


@pytest.fixture(scope="module")
def factor_model(latest: Dataset) -> ImplicitALS:
    config = ImplicitALSConfig(n_factors=64, epochs=10, reg=0.1, alpha=2.0)
    return ImplicitALS(config).fit(latest.ratings)


@pytest.fixture(scope="module")
def small_factors(settings: Settings) -> tuple[ImplicitALS, Dataset]:
    dataset = load_dataset("ml-100k", settings=settings)
    config = ImplicitALSConfig(n_factors=16, epochs=4)
    return ImplicitALS(config).fit(dataset.ratings), dataset


def _movie_id(movies: pl.DataFrame, text: str) -> int:
    return int(find_movies(movies, text, limit=1)["movie_id"][0])


@pytest.mark.slow
@pytest.mark.parametrize(
    "sequel, prequel",
    [
        ("Toy Story 2 (1999)", "Toy Story (1995)"),
        ("Shrek 2 (2004)", "Shrek (2001)"),
    ],
)
def test_sequel_is_close_to_its_prequel(
    factor_model: ImplicitALS, latest: Dataset, sequel: str, prequel: str
) -> None:
    found = similar_movies(factor_model, _movie_id(latest.movies, sequel), 10, movies=latest.movies)
    assert _movie_id(latest.movies, prequel) in found["movie_id"].to_list(), found


@pytest.mark.slow
def test_item_weights_put_sequels_near_prequels(latest: Dataset) -> None:
    knn = ItemKNN().fit(latest.ratings)
    for sequel, prequel in [(3114, 1), (8360, 4306)]:
        found = similar_movies(knn, sequel, 5)
        assert prequel in found["movie_id"].to_list()


def test_similarities_are_cosines_of_movie_vectors(
    small_factors: tuple[ImplicitALS, Dataset],
) -> None:
    factor_model, _ = small_factors
    vectors = factor_model.movie_vectors()
    assert vectors is not None
    scores = movie_similarity_scores(factor_model, 10)
    expected = (
        vectors @ vectors[10] / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(vectors[10]))
    )
    np.testing.assert_allclose(scores, expected, atol=1e-5)
    assert scores[10] == pytest.approx(1.0, abs=1e-5)


def test_the_movie_itself_never_comes_back(small_factors: tuple[ImplicitALS, Dataset]) -> None:
    factor_model, dataset = small_factors
    found = similar_movies(factor_model, 1, 20, movies=dataset.movies)
    assert 1 not in found["movie_id"].to_list()
    assert found["rank"].to_list() == list(range(1, 21))
    assert np.all(np.diff(found["similarity"].to_numpy()) <= 0)
    assert found["title"].null_count() == 0


def test_item_weight_models_use_their_own_similarities(tiny: Ratings) -> None:
    ease = EASE(EASEConfig(reg=1.0)).fit(tiny)
    found = similar_movies(ease, 10, 2)
    weights = ease.movie_similarities(0)
    weights[0] = -np.inf
    best = tiny.movies.raw_ids[np.argsort(-weights)[:2]]
    assert found["movie_id"].to_list() == best.tolist()
    knn = similar_movies(ItemKNN().fit(tiny), 10, 3)
    assert 10 not in knn["movie_id"].to_list()


def test_similar_movies_accepts_filters(small_factors: tuple[ImplicitALS, Dataset]) -> None:
    factor_model, dataset = small_factors
    only = MovieFilter(genres=("Animation",), years=(1990, 1998))
    found = similar_movies(factor_model, 1, 10, movie_filter=only, movies=dataset.movies)
    assert found.height == 10
    assert found["year"].is_between(1990, 1998).all()


def test_similar_movies_errors(small_factors: tuple[ImplicitALS, Dataset], tiny: Ratings) -> None:
    factor_model, _ = small_factors
    with pytest.raises(UnknownIdError, match="424242"):
        similar_movies(factor_model, 424242)
    with pytest.raises(ConfigError, match="no movie vectors"):
        similar_movies(MostPopular().fit(tiny), 10)
    with pytest.raises(ConfigError, match="k must be"):
        similar_movies(factor_model, 1, 0)


def test_title_search_puts_exact_titles_first(latest: Dataset) -> None:
    found = find_movies(latest.movies, "toy story")
    assert found["title"][0] == "Toy Story (1995)"
    assert found["match"].to_list()[:2] == ["exact", "prefix"]
    assert {"Toy Story 2 (1999)", "Toy Story 3 (2010)"} <= set(found["title"].to_list())


def test_title_search_with_a_year_keeps_that_year(latest: Dataset) -> None:
    found = find_movies(latest.movies, "Toy Story (1999)")
    assert found["title"].to_list() == ["Toy Story 2 (1999)"]


def test_title_search_ignores_accents_and_moved_articles(latest: Dataset) -> None:
    assert "Amélie" in find_movies(latest.movies, "AMELIE")["title"][0]
    assert find_movies(latest.movies, "the matrix")["title"][0] == "Matrix, The (1999)"


def test_title_search_without_a_match_is_empty(latest: Dataset) -> None:
    found = find_movies(latest.movies, "zzzz no such film")
    assert found.height == 0
    assert found.columns == ["movie_id", "title", "year", "genres", "match"]


@pytest.mark.parametrize("text", ["", "   ", "(1995)"])
def test_title_search_refuses_empty_text(latest: Dataset, text: str) -> None:
    with pytest.raises(ConfigError, match="empty"):
        find_movies(latest.movies, text)


@pytest.mark.parametrize(
    "title, expected",
    [("Matrix, The", "the matrix"), ("  Amélie  ", "amelie"), ("Château, Le", "le chateau")],
)
def test_normalise_title(title: str, expected: str) -> None:
    assert normalise_title(title) == expected
