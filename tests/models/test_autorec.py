"""AutoRec: sparse vs dense output, determinism, fold-in, persistence, ml-100k learning."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import torch

from matinee.data.ratings import Ratings
from matinee.data.split import Split
from matinee.errors import ConfigError, ModelFormatError
from matinee.evaluation.rating_metrics import rmse
from matinee.models.neural.autorec import AutoRec, AutoRecConfig

SMALL = AutoRecConfig(hidden=(16,), epochs=10, batch_size=8, learning_rate=0.01, reg=1e-4)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread() -> Iterator[None]:
    """These small fits run fastest on one thread (a second one mostly waits at barriers)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data(low_rank: Callable[[int], tuple[Ratings, Ratings]]) -> tuple[Ratings, Ratings]:
    return low_rank(1)


@pytest.fixture(scope="module", params=["item", "user"])
def model(request: pytest.FixtureRequest, data: tuple[Ratings, Ratings]) -> AutoRec:
    return AutoRec(dataclasses.replace(SMALL, kind=request.param)).fit(data[0])


def test_both_kinds_learn_the_low_rank_ratings(
    model: AutoRec, data: tuple[Ratings, Ratings]
) -> None:
    train, test = data
    error = rmse(test.rating, model.predict(test.user_idx, test.movie_idx))
    # U-AutoRec is the weaker of the two (as in the paper): both must clearly beat the mean.
    assert error < 0.9 * rmse(test.rating, np.full(len(test), train.mean()))


def test_sparse_and_dense_output_give_the_same_training(data: tuple[Ratings, Ratings]) -> None:
    train = data[0]
    config = dataclasses.replace(SMALL, epochs=2)
    sparse = AutoRec(dataclasses.replace(config, output_loss="sparse")).fit(train)
    dense = AutoRec(dataclasses.replace(config, output_loss="dense")).fit(train)
    assert sparse.uses_sparse_output() and not dense.uses_sparse_output()
    for key, value in sparse.parameters().items():
        np.testing.assert_allclose(dense.parameters()[key], value, rtol=1e-3, atol=1e-5)


def test_auto_output_loss_follows_density(data: tuple[Ratings, Ratings]) -> None:
    assert not AutoRec(SMALL).fit(data[0]).uses_sparse_output()  # 40% dense
    sparse_train = data[0].take(np.arange(0, len(data[0]), 40))  # 1% dense
    assert AutoRec(SMALL).fit(sparse_train).uses_sparse_output()


def test_same_seed_same_weights_other_seed_other_weights(data: tuple[Ratings, Ratings]) -> None:
    config = dataclasses.replace(SMALL, epochs=2, seed=3)
    first, second = AutoRec(config).fit(data[0]), AutoRec(config).fit(data[0])
    other = AutoRec(dataclasses.replace(config, seed=4)).fit(data[0])
    weights = "net.decoder_weight"
    np.testing.assert_array_equal(first.parameters()[weights], second.parameters()[weights])
    assert not np.array_equal(first.parameters()[weights], other.parameters()[weights])


def test_sparse_output_is_deterministic_on_several_threads(data: tuple[Ratings, Ratings]) -> None:
    # Large enough batches for torch to spread a backward pass over threads: gathered rows
    # must still be summed in a fixed order.
    config = dataclasses.replace(
        SMALL, hidden=(128,), batch_size=30, epochs=6, output_loss="sparse"
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        first, second = AutoRec(config).fit(data[0]), AutoRec(config).fit(data[0])
    finally:
        torch.set_num_threads(threads)
    for key, value in first.parameters().items():
        np.testing.assert_array_equal(second.parameters()[key], value, err_msg=key)


def test_parameters_round_trip_to_identical_predictions(model: AutoRec) -> None:
    rebuilt = AutoRec.from_parameters(model.config, model.parameters())
    users = np.arange(model.n_users)
    np.testing.assert_array_equal(rebuilt.score_users(users), model.score_users(users))
    np.testing.assert_array_equal(
        rebuilt.score_new_user([0, 4], [5.0, 2.0]), model.score_new_user([0, 4], [5.0, 2.0])
    )


def test_damaged_parameters_are_refused(model: AutoRec) -> None:
    params = model.parameters()
    for key, broken in [
        ("net.decoder_bias", np.zeros(3, dtype=np.float32)),
        ("input_indices", params["input_indices"] + 10_000),
    ]:
        with pytest.raises(ModelFormatError, match="do not fit"):
            AutoRec.from_parameters(model.config, {**params, key: broken})
    with pytest.raises(ModelFormatError):
        AutoRec.from_parameters(
            model.config, {k: v for k, v in params.items() if k != "input_indptr"}
        )


def test_user_fold_in_of_a_training_user_is_a_forward_pass(data: tuple[Ratings, Ratings]) -> None:
    train = data[0]
    model = AutoRec(dataclasses.replace(SMALL, kind="user")).fit(train)
    rows = train.user_idx == 5
    folded = model.score_new_user(train.movie_idx[rows], train.rating[rows])
    np.testing.assert_allclose(folded, model.score_users([5])[0], rtol=1e-5, atol=1e-5)


def test_item_fold_in_follows_the_copied_user(data: tuple[Ratings, Ratings]) -> None:
    train = data[0]
    model = AutoRec(SMALL).fit(train)
    correlations = []
    for user in range(0, train.n_users, 3):
        rows = train.user_idx == user
        folded = model.score_new_user(train.movie_idx[rows], train.rating[rows])
        correlations.append(np.corrcoef(folded, model.score_users([user])[0])[0, 1])
    assert np.mean(correlations) > 0.6


def test_unseen_users_and_movies_get_the_baseline(data: tuple[Ratings, Ratings]) -> None:
    train = data[0]
    keep = (train.user_idx != 0) & (train.movie_idx != 0)
    model = AutoRec(SMALL).fit(train.take(keep))
    mean, offsets = train.take(keep).mean(), model.offsets_
    assert offsets.user_bias[0] == 0.0 and offsets.movie_bias[0] == 0.0
    expected = mean + np.array([offsets.movie_bias[4], offsets.user_bias[3]])
    np.testing.assert_allclose(model.predict([0, 3], [4, 0]), expected, rtol=1e-6)
    assert np.allclose(model.score_users([0])[0], np.clip(mean + offsets.movie_bias, 1, 5))
    new_user_bias = offsets.new_user_bias(np.array([0, 2]), np.array([5.0, 1.0]))
    assert model.score_new_user([0, 2], [5.0, 1.0])[0] == pytest.approx(mean + new_user_bias)


def test_the_net_learns_residuals_over_the_baseline(data: tuple[Ratings, Ratings]) -> None:
    train, test = data
    model = AutoRec(SMALL).fit(train)
    # The input stays the ratings (who rated what is part of the signal); the output is the
    # residual over the offsets, which sit at the input's entries.
    np.testing.assert_array_equal(
        model.input_matrix_.toarray(), train.movie_user_matrix().toarray()
    )
    expected = np.zeros((train.n_movies, train.n_users))
    expected[train.movie_idx, train.user_idx] = model.offsets_.at(train.user_idx, train.movie_idx)
    np.testing.assert_allclose(model.offsets_at_entries().toarray(), expected, atol=1e-5)
    baseline = model.offsets_.at(test.user_idx, test.movie_idx)
    assert (
        rmse(test.rating, model.predict(test.user_idx, test.movie_idx))
        < rmse(test.rating, np.clip(baseline, 1, 5)) + 0.05
    )
    params = model.parameters()
    older = {
        k: v for k, v in params.items() if k not in {"user_bias", "movie_bias", "baseline_level"}
    }
    loaded = AutoRec.from_parameters(model.config, older)
    assert loaded.offsets_.level == 0.0


def test_deep_variant_with_dropout_trains(data: tuple[Ratings, Ratings]) -> None:
    config = dataclasses.replace(SMALL, hidden=(24, 8, 24), dropout=0.2, epochs=2)
    model = AutoRec(config).fit(data[0], data[1])
    assert "net.middle.2.weight" in model.parameters()
    assert len(model.history_) == 2 and "val_loss" in model.history_[0]


@pytest.mark.parametrize(
    "values",
    [{"hidden": ()}, {"hidden": (0,)}, {"dropout": 1.0}, {"reg": -1.0}, {"kind": "both"}],
)
def test_bad_config_is_rejected(values: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        AutoRecConfig(**values)  # type: ignore[arg-type]


@pytest.mark.slow
def test_item_autorec_learns_ml100k_u1(canonical_split: Split) -> None:
    split = canonical_split
    model = AutoRec(AutoRecConfig(epochs=4)).fit(split.train)
    error = rmse(split.test.rating, model.predict(split.test.user_idx, split.test.movie_idx))
    mean_error = rmse(split.test.rating, np.full(len(split.test), split.train.mean()))
    assert error < mean_error - 0.12, f"RMSE {error:.3f} vs global mean {mean_error:.3f}"
