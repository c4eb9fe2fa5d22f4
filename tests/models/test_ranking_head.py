"""TasteRanked: the ranking head is part of the atomic fit (issue 11, item 4)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from matinee.data.ratings import Ratings
from matinee.errors import ModelFitError, NotFittedError
from matinee.models.baselines.baseline import BiasBaseline


class _HeadFails(BiasBaseline):
    """A bias baseline whose ranking head fails, when told to, after the biases are fitted."""

    failure: BaseException | None = None

    def taste_vectors(self) -> npt.NDArray[np.floating[Any]]:
        if self.failure is not None:
            raise self.failure
        return super().taste_vectors()


@pytest.mark.parametrize("failure", [ModelFitError("no vectors"), KeyboardInterrupt()])
def test_a_failing_head_leaves_an_unfitted_model(tiny: Ratings, failure: BaseException) -> None:
    model = _HeadFails()
    model.failure = failure
    with pytest.raises(type(failure)):
        model.fit(tiny)
    assert not model.is_fitted and model.history_ == [] and model.ranking_ is None
    assert "user_bias_" not in vars(model) and model.data_fingerprint_ == ""
    with pytest.raises(NotFittedError):
        model.predict([0], [0])


def test_a_failing_head_on_refit_leaves_the_model_as_it_was(tiny: Ratings) -> None:
    model = _HeadFails().fit(tiny)
    before = {key: value.copy() for key, value in model.parameters().items()}
    head, history = model.ranking_, list(model.history_)
    ranks = model.rank_users([0, 1])
    model.failure = KeyboardInterrupt()
    half = tiny.take(np.arange(len(tiny)) % 2 == 0)
    with pytest.raises(KeyboardInterrupt):
        model.fit(half)
    assert model.ranking_ is head and model.history_ == history
    after = model.parameters()
    assert set(after) == set(before)
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=key)
    np.testing.assert_array_equal(model.rank_users([0, 1]), ranks)
