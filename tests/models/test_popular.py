from __future__ import annotations

import numpy as np

from matinee.data.ratings import Ratings
from matinee.models.baselines.popular import MostPopular, PopularConfig


def test_scores_are_shares_of_users(tiny: Ratings) -> None:
    model = MostPopular().fit(tiny)
    expected = tiny.movie_counts() / tiny.n_users
    np.testing.assert_allclose(model.score_users([0, 4]), np.vstack([expected, expected]))


def test_threshold_counts_only_liked_movies(tiny: Ratings) -> None:
    model = MostPopular(PopularConfig(positive_threshold=4.0)).fit(tiny)
    liked = np.bincount(tiny.movie_idx[tiny.rating >= 4.0], minlength=tiny.n_movies)
    np.testing.assert_allclose(model.score_users([1])[0], liked / tiny.n_users)


def test_new_user_gets_the_same_scores(tiny: Ratings) -> None:
    model = MostPopular().fit(tiny)
    np.testing.assert_array_equal(model.score_new_user([0], [3.0]), model.score_users([2])[0])


def test_parameters_round_trip(tiny: Ratings) -> None:
    model = MostPopular().fit(tiny)
    again = MostPopular.from_parameters(model.config, model.parameters())
    np.testing.assert_array_equal(again.score_users([0]), model.score_users([0]))
    assert not again.predicts_ratings
