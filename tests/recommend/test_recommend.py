from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from matinee.data.dataset import Dataset
from matinee.data.loader import load_dataset
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, DataError, NotFittedError, UnknownIdError
from matinee.models.base import Recommender
from matinee.models.baselines.popular import MostPopular
from matinee.models.factorization.ials import ImplicitALS, ImplicitALSConfig
from matinee.models.neighbours.ease import EASE, EASEConfig
from matinee.models.neighbours.knn import ItemKNN
from matinee.recommend import (
    MovieFilter,
    parse_year_range,
    recommend,
    recommend_new_user,
)
from matinee.settings import Settings


@pytest.fixture(scope="module")
def ml100k(settings: Settings) -> Dataset:
    return load_dataset("ml-100k", settings=settings)


@pytest.fixture(scope="module")
def train(ml100k: Dataset) -> Ratings:
    ratings = ml100k.ratings
    keep = np.random.default_rng(0).random(len(ratings)) < 0.8
    return ratings.take(keep)


@pytest.fixture(scope="module")
def models(train: Ratings) -> dict[str, Recommender[Any]]:
    return {
        "ease": EASE(EASEConfig(reg=300.0)).fit(train),
        "ials": ImplicitALS(ImplicitALSConfig(n_factors=16, epochs=4)).fit(train),
        "knn": ItemKNN().fit(train),
        "popular": MostPopular().fit(train),
    }


def _rated(train: Ratings, user_id: int) -> set[int]:
    user = train.users.index(user_id)
    return set(train.movies.raw_ids[train.movie_idx[train.user_idx == user]].tolist())


@pytest.mark.parametrize("name", ["ease", "ials", "knn", "popular"])
def test_rated_movies_never_come_back(
    models: dict[str, Recommender[Any]], train: Ratings, name: str
) -> None:
    @hypothesis_settings(
        max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(
        positions=st.lists(st.integers(0, train.n_users - 1), min_size=1, max_size=6, unique=True),
        k=st.integers(1, 40),
    )
    def check(positions: list[int], k: int) -> None:
        user_ids = train.users.raw_ids[positions]
        lists = recommend(models[name], user_ids, k, exclude_rated=train, batch_size=4)
        for user_id in set(user_ids.tolist()):
            got = lists.filter(pl.col("user_id") == user_id)
            assert got.height == k
            assert not set(got["movie_id"].to_list()) & _rated(train, user_id)

    check()


@pytest.mark.parametrize("name", ["ease", "ials", "knn"])
def test_batch_equals_single(
    models: dict[str, Recommender[Any]], train: Ratings, name: str
) -> None:
    user_ids = train.users.raw_ids[[0, 5, 17, 200, 942]]
    batch = recommend(models[name], user_ids, 10, exclude_rated=train, batch_size=2)
    singles = pl.concat(
        [recommend(models[name], [user_id], 10, exclude_rated=train) for user_id in user_ids]
    )
    assert batch.select("user_id", "rank", "movie_id").equals(
        singles.select("user_id", "rank", "movie_id")
    )
    np.testing.assert_allclose(batch["score"].to_numpy(), singles["score"].to_numpy(), rtol=1e-5)


def test_a_repeated_user_gets_one_list_per_mention(
    models: dict[str, Recommender[Any]], train: Ratings
) -> None:
    user_id = int(train.users.raw_ids[7])
    lists = recommend(models["ease"], [user_id, user_id], 3, exclude_rated=train)
    assert lists["rank"].to_list() == [1, 2, 3, 1, 2, 3]


def test_lists_are_ranked_best_first(models: dict[str, Recommender[Any]], train: Ratings) -> None:
    lists = recommend(models["ease"], train.users.raw_ids[:3], 15, exclude_rated=train)
    for _, group in lists.group_by("user_id"):
        assert group["rank"].to_list() == list(range(1, 16))
        scores = group["score"].to_numpy()
        assert np.all(np.diff(scores) <= 0)


def test_without_exclusion_known_movies_may_come_back(
    models: dict[str, Recommender[Any]], train: Ratings
) -> None:
    user_id = int(train.users.raw_ids[0])
    lists = recommend(models["popular"], [user_id], 50)
    assert set(lists["movie_id"].to_list()) & _rated(train, user_id)


def test_exclusion_works_through_other_id_maps(
    models: dict[str, Recommender[Any]], train: Ratings
) -> None:
    user_id = int(train.users.raw_ids[3])
    mine = train.take(train.user_idx == 3).compact()
    lists = recommend(models["ease"], [user_id], 30, exclude_rated=mine)
    assert not set(lists["movie_id"].to_list()) & _rated(train, user_id)


def test_unknown_users_are_all_listed(models: dict[str, Recommender[Any]]) -> None:
    with pytest.raises(UnknownIdError, match=r"99999.*88888"):
        recommend(models["ease"], [1, 99999, 88888], 5)


@pytest.mark.parametrize("k", [0, -3, 2.5, True])
def test_bad_k_is_refused(models: dict[str, Recommender[Any]], k: Any) -> None:
    with pytest.raises(ConfigError, match="k must be"):
        recommend(models["ease"], [1], k)


@pytest.mark.parametrize("name", ["ease", "ials", "knn", "popular"])
def test_new_user_never_gets_rated_movies_back(
    models: dict[str, Recommender[Any]], ml100k: Dataset, name: str
) -> None:
    rated = {1: 5.0, 71: 4.5, 95: 5.0, 588: 5.0, 595: 4.0, 99: 3.0}
    lists = recommend_new_user(models[name], rated, 20, movies=ml100k.movies)
    assert lists.height == 20
    assert not set(lists["movie_id"].to_list()) & set(rated)
    assert lists["title"].null_count() == 0
    assert lists.columns[:3] == ["rank", "movie_id", "score"]


def test_new_user_lovers_of_animation_get_animation(
    models: dict[str, Recommender[Any]], ml100k: Dataset
) -> None:
    animated = {1: 5.0, 71: 5.0, 95: 5.0, 99: 5.0, 404: 5.0, 418: 5.0, 501: 5.0, 588: 5.0}
    lists = recommend_new_user(models["ease"], animated, 10, movies=ml100k.movies)
    children = lists["genres"].list.eval(pl.element().is_in(["Animation", "Children's"])).list
    assert children.any().sum() >= 5


def test_new_user_errors(models: dict[str, Recommender[Any]]) -> None:
    model = models["ease"]
    with pytest.raises(DataError, match="at least one"):
        recommend_new_user(model, {})
    with pytest.raises(UnknownIdError, match=r"777777.*888888"):
        recommend_new_user(model, {1: 5.0, 777777: 4.0, 888888: 3.0})
    with pytest.raises(DataError, match="rating scale"):
        recommend_new_user(model, {1: 9.0})
    with pytest.raises(DataError, match="rating scale"):
        recommend_new_user(model, {1: float("nan")})
    with pytest.raises(DataError, match="mapping"):
        recommend_new_user(model, [(1, 5.0)])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="integers"):
        recommend_new_user(model, {"1": 5.0})  # type: ignore[dict-item]
    with pytest.raises(DataError, match="numbers"):
        recommend_new_user(model, {1: "five"})  # type: ignore[dict-item]


def test_genre_and_year_filters(models: dict[str, Recommender[Any]], ml100k: Dataset) -> None:
    wanted = MovieFilter(genres=("comedy", "Horror"), years=(1990, 1994))
    lists = recommend_new_user(
        models["ials"], {50: 5.0, 181: 4.0}, 25, movie_filter=wanted, movies=ml100k.movies
    )
    assert lists.height == 25
    assert lists["year"].is_between(1990, 1994).all()
    assert lists["genres"].list.eval(pl.element().is_in(["Comedy", "Horror"])).list.any().all()


def test_candidate_filter_and_its_unknown_ids(models: dict[str, Recommender[Any]]) -> None:
    candidates = (1, 2, 3, 4, 5, 50)
    lists = recommend_new_user(
        models["ease"], {50: 5.0}, 10, movie_filter=MovieFilter(candidates=candidates)
    )
    assert set(lists["movie_id"].to_list()) == {1, 2, 3, 4, 5}
    with pytest.raises(UnknownIdError, match="123456"):
        recommend_new_user(models["ease"], {50: 5.0}, movie_filter=MovieFilter(candidates=[123456]))


def test_min_ratings_filter(models: dict[str, Recommender[Any]], train: Ratings) -> None:
    user_ids = train.users.raw_ids[:4]
    wanted = MovieFilter(min_ratings=200)
    lists = recommend(
        models["knn"], user_ids, 10, exclude_rated=train, movie_filter=wanted, rating_counts=train
    )
    counts = dict(zip(train.movies.raw_ids.tolist(), train.movie_counts().tolist(), strict=True))
    assert all(counts[movie_id] >= 200 for movie_id in lists["movie_id"].to_list())
    as_array = recommend(
        models["knn"],
        user_ids,
        10,
        exclude_rated=train,
        movie_filter=wanted,
        rating_counts=train.movie_counts(),
    )
    assert as_array.equals(lists)


def test_filters_without_their_data_are_refused(models: dict[str, Recommender[Any]]) -> None:
    with pytest.raises(ConfigError, match="movies table"):
        recommend_new_user(models["ease"], {1: 5.0}, movie_filter=MovieFilter(genres=("Drama",)))
    with pytest.raises(ConfigError, match="rating counts"):
        recommend_new_user(models["ease"], {1: 5.0}, movie_filter=MovieFilter(min_ratings=3))
    with pytest.raises(DataError, match="shape"):
        recommend_new_user(
            models["ease"],
            {1: 5.0},
            movie_filter=MovieFilter(min_ratings=3),
            rating_counts=np.ones(3, dtype=np.int64),
        )


def test_a_filter_that_leaves_few_movies_gives_short_lists(
    models: dict[str, Recommender[Any]],
) -> None:
    lists = recommend_new_user(
        models["ease"], {1: 5.0}, 10, movie_filter=MovieFilter(candidates=(1, 2, 3))
    )
    assert sorted(lists["movie_id"].to_list()) == [2, 3]
    assert lists["rank"].to_list() == [1, 2]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1990-2000", (1990, 2000)),
        ("1995", (1995, 1995)),
        ("-1980", (None, 1980)),
        ("2001-", (2001, None)),
    ],
)
def test_parse_year_range(text: str, expected: tuple[int | None, int | None]) -> None:
    assert parse_year_range(text) == expected


@pytest.mark.parametrize("text", ["", "-", "nineties", "2000-1990x"])
def test_parse_year_range_rejects_nonsense(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_year_range(text)


def test_empty_year_range_is_refused() -> None:
    with pytest.raises(ConfigError, match="empty"):
        MovieFilter(years=(2000, 1990))


def test_numpy_movie_ids_are_accepted(models: dict[str, Recommender[Any]]) -> None:
    lists = recommend_new_user(models["ease"], {np.int64(50): 5.0, np.int32(181): 4.0}, 3)
    assert lists.height == 3


def test_unfitted_model_is_refused() -> None:
    with pytest.raises(NotFittedError):
        recommend(EASE(), [1], 5)
    with pytest.raises(NotFittedError):
        recommend_new_user(ItemKNN(), {1: 4.0})
