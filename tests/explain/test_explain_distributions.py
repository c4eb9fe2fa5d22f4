from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, DataError
from matinee.explain.distributions import (
    CATALOG_COLUMNS,
    activity_crosstab,
    check_rows,
    check_vectors,
    most_rated_movies,
    movie_catalog,
    rating_values,
    ratings_per_movie,
    ratings_per_user,
    training_curves,
)

MOVIES = pl.DataFrame(
    {
        "movie_id": [10, 20, 30, 40, 99],
        "title": ["Alpha (1990)", "Beta (1991)", "Gamma (1992)", "Delta (1993)", "Unrated"],
        "genres": [["Comedy"], ["Drama", "Romance"], ["(no genres listed)"], ["Drama"], []],
    }
)


def test_catalog_aligns_titles_genres_and_counts_by_raw_id(tiny: Ratings) -> None:
    model_movies = IdMap([10, 20, 30, 40, 50], kind="movie")  # 50: no title, no ratings
    catalog = movie_catalog(model_movies, MOVIES, tiny)
    assert catalog.columns == list(CATALOG_COLUMNS)
    assert catalog["movie_id"].to_list() == [10, 20, 30, 40, 50]
    assert catalog["title"].to_list() == [
        "Alpha (1990)",
        "Beta (1991)",
        "Gamma (1992)",
        "Delta (1993)",
        "movie 50",
    ]
    assert catalog["genres"].to_list() == [["Comedy"], ["Drama", "Romance"], [], ["Drama"], []]
    assert catalog["n_ratings"].to_list() == [3, 3, 3, 3, 0]


def test_catalog_without_table_or_ratings_has_placeholders() -> None:
    catalog = movie_catalog(IdMap([7, 8], kind="movie"))
    assert catalog["title"].to_list() == ["movie 7", "movie 8"]
    assert catalog["n_ratings"].null_count() == 2
    assert most_rated_movies(catalog).tolist() == [0, 1]


def test_catalog_rejects_bad_inputs() -> None:
    with pytest.raises(DataError, match="IdMap"):
        movie_catalog([1, 2])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="genres"):
        movie_catalog(IdMap([1]), pl.DataFrame({"movie_id": [1], "title": ["x"]}))


def test_most_rated_movies_orders_by_count_then_index() -> None:
    ratings = Ratings.from_raw([1, 2, 3, 1, 2, 1], [5, 5, 5, 6, 6, 7], [3.0] * 6)
    catalog = movie_catalog(IdMap([5, 6, 7, 8]), None, ratings)
    assert most_rated_movies(catalog).tolist() == [0, 1, 2, 3]
    assert most_rated_movies(catalog, 2).tolist() == [0, 1]
    with pytest.raises(ConfigError):
        most_rated_movies(catalog, 0)


def test_check_rows_and_vectors() -> None:
    assert check_rows(5, [3, 1, 3]).tolist() == [1, 3]
    assert check_rows(3, None).tolist() == [0, 1, 2]
    with pytest.raises(DataError, match=r"0\.\.4"):
        check_rows(5, [5])
    with pytest.raises(DataError, match="empty"):
        check_rows(5, [])
    with pytest.raises(DataError, match="integers"):
        check_rows(5, [0.5])
    with pytest.raises(DataError, match="NaN"):
        check_vectors([[np.nan]])
    with pytest.raises(DataError, match="2-D"):
        check_vectors([1.0, 2.0])


def test_counts_and_rating_values(tiny: Ratings) -> None:
    per_movie = ratings_per_movie(tiny)
    assert per_movie["n_ratings"].to_list() == [3, 3, 3, 3]
    per_user = ratings_per_user(tiny)
    assert per_user.row(0) == (1, 3)
    assert per_user["n_ratings"].sum() == 12
    values = rating_values(tiny)
    assert values["rating"].to_list() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert values["count"].to_list() == [1, 3, 2, 3, 3]


def test_activity_crosstab_holds_the_ratings_of_the_most_active(tiny: Ratings) -> None:
    crosstab = activity_crosstab(tiny, n_users=2, n_movies=2, titles={10: "Alpha"})
    assert crosstab.user_ids == (1, 3)
    assert crosstab.movie_ids == (10, 20)
    assert crosstab.titles == ("Alpha", "movie 20")
    expected = np.array([[5.0, 3.0], [np.nan, 2.0]])
    np.testing.assert_array_equal(crosstab.values, expected)
    with pytest.raises(ConfigError):
        activity_crosstab(tiny, n_users=0)


def test_training_curves_from_history() -> None:
    history = [
        {"epoch": 1.0, "loss": 1.2, "val_loss": 1.3, "seconds": 0.1},
        {"epoch": 2.0, "loss": 0.9, "seconds": 0.1},
    ]
    curves = training_curves(history)
    assert curves["epoch"].to_list() == [1, 2]
    assert curves["loss"].to_list() == [1.2, 0.9]
    assert curves["val_loss"].to_list() == [1.3, None]
    with pytest.raises(DataError, match="no training history"):
        training_curves([])
    with pytest.raises(DataError, match="numbers"):
        training_curves([{"epoch": 1.0, "loss": "x"}])  # type: ignore[dict-item]
