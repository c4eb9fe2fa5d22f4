from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from matinee.data.filters import RatingThreshold
from matinee.data.ids import IdMap
from matinee.data.loader import load_dataset
from matinee.data.ratings import Ratings
from matinee.data.split import Split
from matinee.data.splits import per_user_holdout
from matinee.errors import ConfigError
from matinee.evaluation.evaluate import fit_and_evaluate
from matinee.evaluation.ranking_metrics import ndcg_at_k, relevance_matrix, top_k
from matinee.evaluation.tuning import TuneSettings, tune
from matinee.models._ranker_common import interactions
from matinee.models.neighbours.ease import EASE, EASEConfig, ease_weights
from matinee.models.search import FloatRange
from matinee.models.side_info import MovieFeatures, give_movie_features
from matinee.settings import Settings

MOVIES = pl.DataFrame(
    {
        "movie_id": [30, 10, 20, 40],
        "year": [1971, 1995, None, 1974],
        "genres": [["Western"], ["Comedy", "Western"], ["Comedy"], ["(no genres listed)"]],
    },
    schema_overrides={"year": pl.Int32},
)


def _features_by_name(features: sp.csr_matrix, names: tuple[str, ...]) -> dict[str, list[int]]:
    return {name: sorted(features[i].indices.tolist()) for i, name in enumerate(names)}


def test_features_list_genres_and_year_spans_by_raw_id() -> None:
    features = MovieFeatures.from_movies(MOVIES)
    assert features.movie_ids.tolist() == [10, 20, 30, 40]
    named = _features_by_name(features.matrix, features.names)
    assert named == {
        "genre:Western": [0, 2],
        "years:1970-1974": [2, 3],
        "genre:Comedy": [0, 1],
        "years:1995-1999": [0],
    }


def test_matrix_follows_the_fits_movies_and_drops_lone_features() -> None:
    features = MovieFeatures.from_movies(MOVIES)
    movies = IdMap([40, 30, 99, 10])  # sorted by the map: 10, 30, 40, 99 (99 is not listed)
    matrix = features.matrix_for(movies)
    assert matrix.shape == (2, 4) and matrix.dtype == np.float32
    rows = {tuple(matrix[i].indices.tolist()) for i in range(matrix.shape[0])}
    # Western: 10 and 30; 1970-1974: 30 and 40; Comedy holds only 10 here, 1995-1999 only 10.
    assert rows == {(0, 1), (1, 2)}
    assert features.matrix_for(movies, min_movies=1).shape == (4, 4)


def test_bad_inputs_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="year_bucket"):
        MovieFeatures.from_movies(MOVIES, year_bucket=0)
    with pytest.raises(ConfigError, match="lacks columns"):
        MovieFeatures.from_movies(MOVIES.drop("genres"))
    with pytest.raises(ConfigError, match="shape"):
        MovieFeatures(np.array([1, 2]), ("a",), sp.csr_matrix((1, 3)))


def _sharing_ratings() -> Ratings:
    """Movies 1 and 2 are never rated together; 3 and 4 fill in the co-counts."""
    users = [1, 1, 2, 2, 3, 3, 4, 4, 5]
    movies = [1, 3, 2, 4, 1, 4, 2, 3, 3]
    return Ratings.from_raw(users, movies, np.full(len(users), 4.0), timestamps=np.arange(9))


def _sharing_movies() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "movie_id": [1, 2, 3, 4],
            "year": [1950, 1952, 2001, 2003],
            "genres": [["Western"], ["Western"], ["Drama"], ["Comedy"]],
        },
        schema_overrides={"year": pl.Int32},
    )


def test_feature_rows_add_beta_f_transpose_f_to_the_gram() -> None:
    ratings = _sharing_ratings()
    features = MovieFeatures.from_movies(_sharing_movies())
    config = EASEConfig(reg=1.0, side_info_weight=4.0, precision="float64")
    model = EASE(config).use_movie_features(features).fit(ratings)
    rows = sp.vstack([interactions(ratings, None), 2.0 * features.matrix_for(ratings.movies)])
    expected = ease_weights(sp.csr_matrix(rows), 1.0)
    np.testing.assert_allclose(model.weights_, expected, atol=1e-10)  # type: ignore[arg-type]
    plain = EASE(EASEConfig(reg=1.0, precision="float64")).fit(ratings)
    one, two = ratings.movies.indices([1, 2]).tolist()
    # Never co-rated, the two westerns of the 1950s now point at each other.
    assert model.weights_[one, two] > plain.weights_[one, two] + 0.05  # type: ignore[index]
    # Scoring, saving and new users need no features: the weights hold them.
    again = EASE.from_parameters(model.config, model.parameters())
    np.testing.assert_array_equal(again.score_users([0, 2]), model.score_users([0, 2]))
    new_user = again.rank_new_user([one], [5.0])
    assert int(np.argmax(np.where(np.arange(4) == one, -np.inf, new_user))) == two


def test_weight_without_features_refuses_and_leaves_the_model_as_it_was() -> None:
    ratings = _sharing_ratings()
    model = EASE(EASEConfig(side_info_weight=1.0))
    with pytest.raises(ConfigError, match="use_movie_features"):
        model.fit(ratings)
    assert model.weights_ is None
    unused = EASE(EASEConfig()).use_movie_features(MovieFeatures.from_movies(_sharing_movies()))
    plain = EASE(EASEConfig()).fit(ratings)
    np.testing.assert_array_equal(unused.fit(ratings).weights_, plain.weights_)  # type: ignore[arg-type]


def test_config_rejects_a_negative_weight() -> None:
    with pytest.raises(ConfigError):
        EASEConfig(side_info_weight=-1.0)


@pytest.mark.slow
def test_side_info_lifts_ranking_on_ml_latest_small(settings: Settings) -> None:
    dataset = load_dataset("ml-latest-small", settings=settings)
    liked = RatingThreshold(4.0).apply(dataset.ratings).ratings.compact()
    split = per_user_holdout(liked, fraction=0.2, seed=0)
    train, test = split.train, split.test
    features = MovieFeatures.from_movies(dataset.movies)
    users = np.unique(test.user_idx)
    row = np.full(train.n_users, -1)
    row[users] = np.arange(users.size)
    relevant = relevance_matrix(row[test.user_idx], test.movie_idx, users.size, train.n_movies)
    seen = train.user_movie_matrix()[users]

    def ndcg(weight: float) -> float:
        config = EASEConfig(
            reg=375.0, session_window=2, session_weight=0.6, side_info_weight=weight
        )
        model = EASE(config).use_movie_features(features).fit(train)
        return ndcg_at_k(top_k(model.score_users(users), 10, seen), relevant)

    plain, with_side_info = ndcg(0.0), ndcg(30.0)
    assert with_side_info > plain + 0.004, (plain, with_side_info)


def test_evaluation_hands_the_movies_table_to_the_fit() -> None:
    ratings = _sharing_ratings()
    split = Split(ratings, ratings.take(np.arange(len(ratings)) % 3 == 0))
    config = EASEConfig(reg=1.0, side_info_weight=4.0, precision="float64")
    made: list[EASE] = []

    def factory() -> EASE:
        made.append(EASE(config))
        return made[-1]

    fit_and_evaluate(factory, split, movies=_sharing_movies())
    by_hand = EASE(config).use_movie_features(MovieFeatures.from_movies(_sharing_movies()))
    np.testing.assert_array_equal(made[0].weights_, by_hand.fit(ratings).weights_)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="use_movie_features"):
        fit_and_evaluate(lambda: EASE(config), split)
    untouched = EASE(EASEConfig())
    give_movie_features(untouched, None)
    assert untouched.movie_features is None
    give_movie_features(object(), _sharing_movies())  # a model that takes none: nothing to do


def test_tune_searches_the_weight_with_the_movies_table(
    low_rank: Callable[..., tuple[Ratings, Ratings]],
) -> None:
    train, test = low_rank(3)
    ids = train.movies.raw_ids.tolist()
    movies = pl.DataFrame(
        {
            "movie_id": ids,
            "year": [1950 + 10 * (i % 4) for i in range(len(ids))],
            "genres": [["Western"] if i % 2 else ["Drama"] for i in range(len(ids))],
        },
        schema_overrides={"year": pl.Int32},
    )
    split = Split(train, test)
    settings = TuneSettings(trials=3, metric="ndcg@10", relevance_threshold=3.0)
    space = {"side_info_weight": FloatRange(1.0, 10.0)}
    result = tune(EASE, split, settings=settings, space=space, movies=movies)
    assert 1.0 <= result.best_config.side_info_weight <= 10.0  # type: ignore[attr-defined]
    assert sum(trial.state == "complete" for trial in result.trials) == 3
    with pytest.raises(ConfigError, match="use_movie_features"):
        tune(EASE, split, settings=settings, space=space)
