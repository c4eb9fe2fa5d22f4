"""Ratings by id or title: resolution, and every error a person can make."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matinee.data.dataset import Dataset
from matinee.data.loader import load_dataset
from matinee.errors import DataError, UnknownIdError
from matinee.service import AmbiguousTitleError, ModelBundle, UnknownMoviesError
from matinee.service.catalog import MovieCatalog
from matinee.service.rated import resolve_ratings, resolve_title
from matinee.settings import Settings as MatineeSettings


@pytest.fixture(scope="module")
def latest(settings: MatineeSettings) -> MovieCatalog:
    """Every movie of ml-latest-small (9,742 titles), counted over its ratings."""
    dataset = load_dataset("ml-latest-small", settings=settings)
    return MovieCatalog.from_movies(dataset.movies, dataset.ratings)


@pytest.mark.parametrize(
    "text, movie_id",
    [
        ("Good, the Bad and the Ugly, The (1966)", 1201),
        ("the good the bad and the ugly", 1201),
        ("Star Wars: Episode IV - A New Hope (1977)", 260),
        ("star wars episode iv", 260),
        ("Toy Story", 1),
        ("toy story (1995)", 1),
        ("Amelie", 4973),
        ("Fabuleux destin d'Amélie Poulain, Le", 4973),
        ("Shawshank Redemtion", 318),
        ("Godfather", 858),
    ],
)
def test_titles_resolve(latest: MovieCatalog, text: str, movie_id: int) -> None:
    assert resolve_ratings(latest, {text: 4.0}, (0.5, 5.0)) == {movie_id: 4.0}


def test_ids_and_pairs_are_accepted(latest: MovieCatalog) -> None:
    pairs = [(1, 5), ("260", 4.5), ("Heat (1995)", 3)]
    assert resolve_ratings(latest, pairs, (0.5, 5.0)) == {1: 5.0, 260: 4.5, 6: 3.0}


def test_an_ambiguous_title_lists_its_candidates(latest: MovieCatalog) -> None:
    with pytest.raises(AmbiguousTitleError) as caught:
        resolve_ratings(latest, {"Star Wars": 5, "Hamlet": 4, "Heat": 4, "Fargo": 3}, (0.5, 5.0))
    error = caught.value
    assert isinstance(error, DataError)
    assert set(error.candidates) == {"Star Wars", "Hamlet"}
    assert {260, 1196, 1210} <= {m.movie_id for m in error.candidates["Star Wars"]}
    years = {m.year for m in error.candidates["Hamlet"]}
    assert {1990, 1996} <= years
    assert "Hamlet" in str(error) and "add the year" in str(error).lower()


def test_every_unknown_id_and_title_is_listed(latest: MovieCatalog) -> None:
    ratings = {999999: 4, "Toy Story": 5, "Qwzxv Plkjh": 3, "888888": 2, "Zzyzx Mnbvc": 1}
    with pytest.raises(UnknownMoviesError) as caught:
        resolve_ratings(latest, ratings, (0.5, 5.0))
    error = caught.value
    assert isinstance(error, UnknownIdError)
    assert error.unknown_ids == [999999, 888888]
    assert error.unknown_titles == ["Qwzxv Plkjh", "Zzyzx Mnbvc"]
    for piece in ("999999", "888888", "Qwzxv Plkjh", "Zzyzx Mnbvc"):
        assert piece in str(error)


@pytest.mark.parametrize(
    "ratings, message",
    [
        ({}, "no ratings"),
        ([], "no ratings"),
        ("Toy Story:5", "mapping"),
        ({1: True}, "boolean"),
        ({True: 4}, "boolean"),
        ({1: "5"}, "must be a number"),
        ({1: None}, "must be a number"),
        ({1: 5.5}, "rating scale 0.5-5"),
        ({1: 0.0, 2: float("nan")}, "off it: 1: 0, 2: nan"),
        ({1: 5, "Toy Story (1995)": 4}, "rated twice"),
        ({"": 4}, "by id or title"),
        ({1.5: 4}, "by id or title"),
        ([(1, 5, 3)], "pair"),
    ],
)
def test_bad_input_gets_a_clear_error(latest: MovieCatalog, ratings: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        resolve_ratings(latest, ratings, (0.5, 5.0))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_every_listed_title_finds_its_movie(latest: MovieCatalog, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(latest) - 1))
    title = latest.infos[index].title
    found, candidates = resolve_title(latest, title)
    assert found == index or index in candidates


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_search_never_fails_on_any_text(latest: MovieCatalog, text: str) -> None:
    try:
        found = latest.search(text, limit=5)
    except Exception as error:  # only an empty query may be refused
        assert "empty" in str(error)
        return
    assert len(found) <= 5


def test_bundle_resolves_on_its_own_scale(ease: ModelBundle) -> None:
    assert ease.resolve_ratings({"Fargo": 1}) == {100: 1.0}
    with pytest.raises(DataError, match="rating scale 1-5"):
        ease.resolve_ratings({"Fargo": 0.5})  # ml-100k has no half stars


def test_find_movie(ease: ModelBundle) -> None:
    assert ease.find_movie("star wars").movie_id == 50
    assert ease.find_movie("50").movie_id == 50
    assert ease.find_movie(50).movie_id == 50
    with pytest.raises(AmbiguousTitleError):
        ease.find_movie("Cape Fear")
    with pytest.raises(UnknownIdError, match="Qwzxv"):
        ease.find_movie("Qwzxv")


def test_a_dataset_catalog_counts_all_listed_movies(ml100k: Dataset, tmp_path: Path) -> None:
    catalog = MovieCatalog.from_movies(ml100k.movies, ml100k.ratings)
    assert len(catalog) == 1682
    assert catalog.info(50).n_ratings == 583
