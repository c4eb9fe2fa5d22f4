"""The model contract: one suite run over every registered model.

Every model in :func:`matinee.models.registry.available_models` is checked on small synthetic data
whose answer is known. A model added to the registry is covered automatically. The test kit's
:data:`matinee.testing.CONTRACT_SETTINGS` may hold config fields that make a model small and fast
for these tests; otherwise the suite uses its defaults with ``epochs`` capped.

Exemptions are explicit, by registry name, each with its reason, and kept minimal:
:data:`NOT_PERSONAL` (models whose ranking is the same for everyone by design),
:data:`DETERMINISTIC` (models with no random choice, so the seed cannot matter) and
:data:`INERT_FIELDS` (config fields that cannot change the output on these data).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import numpy as np
import pytest
import scipy.sparse as sp

from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, DataError, ModelFitError, NotFittedError, UnknownIdError
from matinee.evaluation.ranking_metrics import top_k
from matinee.evaluation.rating_metrics import rmse
from matinee.models.base import Recommender
from matinee.models.config import Config
from matinee.models.registry import available_models, model_class
from matinee.store.files import load_model, save_model
from matinee.testing import contract_settings
from matinee.training.loop import FitOptions

MODELS = available_models()

NOT_PERSONAL: dict[str, str] = {
    "global-mean": "predicts the training mean for every pair: no ranking at all",
    "baseline": "user bias + movie bias: every user gets the same movie order",
    "popular": "ranks by popularity: the same list for everyone",
}
"""Models exempt from the personalised known-answer tests, and why."""

ZERO_FILLED: dict[str, str] = {
    "nmf-matrix": "factorises the zero-filled matrix (the seed notebooks' form); its ratings are "
    "the bias baseline plus a small fitted correction of that reconstruction, so on the "
    "checkerboard the held-out loved movie rates first for 75% of users, not 90% (its lists, "
    "rank_users, rank by the reconstruction itself)",
}
"""Models whose ratings calibrate a zero-filled reconstruction: exempt from the checkerboard's
top-1-by-rating test (the low-rank test checks their held-out ratings like any model's)."""

DETERMINISTIC: dict[str, str] = {
    "global-mean": "the mean has no random part",
    "baseline": "alternating least squares from zero biases",
    "popular": "counts",
    "ease": "closed form (the optional low-pass SVD starts from a seeded vector; it is off here)",
    "item-knn": "similarities of counts",
    "rp3beta": "random-walk probabilities of counts",
}
"""Models with no random choice: a different seed must not (cannot) change them."""

INERT_FIELDS: dict[tuple[str, str], str] = {
    ("ease", "max_movies"): "a memory guard: only refuses fits above the limit",
    ("ease", "side_info_weight"): (
        "acts only with movie features (use_movie_features); tests/models/test_ease_side_info.py"
    ),
    ("movie-autoencoder", "validation_fraction"): (
        "only used when fit gets no validation set; the field sweep passes one"
    ),
    ("autorec", "validation_fraction"): (
        "only used when fit gets no validation set; the field sweep passes one"
    ),
    **{
        ("ials", field): "implicit feedback has no validation loss, so the loop never stops early"
        for field in ("patience", "min_delta", "restore_best")
    },
}
"""(model, field) pairs that cannot change the output on the contract data, and why."""

LOOP_CONTEXT: dict[str, dict[str, object]] = {
    "patience": {"min_delta": 1e9},
    "min_delta": {"patience": 3},
    "restore_best": {"patience": 2, "min_delta": 1e9},
}
"""Training-loop fields only act with a validation set and early stopping; these settings make
them act (a huge ``min_delta`` means no epoch after the first counts as better)."""

FIELD_CONTEXT: dict[tuple[str, str], dict[str, object]] = {
    ("nmf-matrix", "l1_ratio"): {"reg": 0.1},
    ("ease", "session_weight"): {"session_window": 2},
    ("ease", "low_pass_weight"): {"low_pass_factors": 4},
}
"""Settings under which a field acts at all (the L1/L2 mix only matters with a penalty)."""

FIELD_VALUES: dict[tuple[str, str], tuple[object, ...]] = {
    ("blend", "part_settings"): ("biased-mf.n_factors=4",),
}
"""Text settings the sweep cannot make up: entries appended to the field's value to try."""

EPOCH_CAP = 15


# ---- data with known answers ----------------------------------------------------------------


def low_rank_ratings(seed: int = 7, density: float = 0.5) -> Ratings:
    """Noiseless ``3 + user bias + movie bias + rank-2 term`` on 1-5, ``density`` of cells."""
    rng = np.random.default_rng(seed)
    n_users, n_movies = 80, 40
    user_bias, movie_bias = rng.normal(0, 0.5, n_users), rng.normal(0, 0.5, n_movies)
    user_factors = rng.normal(0, 0.6, (n_users, 2))
    movie_factors = rng.normal(0, 0.6, (n_movies, 2))
    full = 3.0 + user_bias[:, None] + movie_bias[None, :] + user_factors @ movie_factors.T
    users, movies = np.nonzero(rng.random((n_users, n_movies)) < density)
    ratings = Ratings.from_raw(
        users + 1, movies + 1, np.clip(full[users, movies], 1.0, 5.0), rating_scale=(1.0, 5.0)
    )
    return ratings


def low_rank_split(seed: int = 7) -> tuple[Ratings, Ratings, Ratings]:
    """:func:`low_rank_ratings` cut 70/10/20 into train, validation and test."""
    ratings = low_rank_ratings(seed)
    part = np.random.default_rng(seed).integers(0, 10, len(ratings))
    return ratings.take(part < 7), ratings.take(part == 7), ratings.take(part > 7)


def checkerboard(seed: int = 3) -> tuple[Ratings, Ratings]:
    """Two groups of users who love their own block of movies (5) and dislike the other (1).

    Each user rated every movie of their block but one (held out as test) and about half of the
    other block, so the held-out movie must be their best unrated movie.
    """
    rng = np.random.default_rng(seed)
    n_users, block = 40, 10
    train_rows: list[tuple[int, int, float]] = []
    test_rows: list[tuple[int, int, float]] = []
    for user in range(n_users):
        group = user % 2
        own = np.arange(block) + group * block
        other = np.arange(block) + (1 - group) * block
        held_out = int(own[(user // 2) % block])
        train_rows += [(user, int(movie), 5.0) for movie in own if movie != held_out]
        train_rows += [(user, int(movie), 1.0) for movie in other if rng.random() < 0.5]
        test_rows.append((user, held_out, 5.0))
    users, movies, values = zip(*(train_rows + test_rows), strict=True)
    everything = Ratings.from_raw(users, movies, values, rating_scale=(1.0, 5.0))
    is_test = np.arange(len(everything)) >= len(train_rows)
    return everything.take(~is_test), everything.take(is_test)


# ---- building models ------------------------------------------------------------------------


def fast_config(cls: type[Recommender[Any]], **changes: object) -> Config:
    """The model's defaults made small: the kit's contract settings, at most EPOCH_CAP epochs."""
    defaults = cls.config_type()
    settings: dict[str, object] = dict(contract_settings(cls.name))
    names = {field.name for field in dataclasses.fields(defaults)}
    if "epochs" in names and "epochs" not in settings:
        settings["epochs"] = min(int(getattr(defaults, "epochs")), EPOCH_CAP)  # noqa: B009
    settings.update(changes)
    return dataclasses.replace(defaults, **settings)  # type: ignore[arg-type]


def fitted(
    name: str, train: Ratings, validation: Ratings | None = None, **changes: object
) -> Recommender[Any]:
    cls = model_class(name)
    return cls(fast_config(cls, **changes)).fit(train, validation)


@pytest.fixture(scope="module")
def low_rank() -> tuple[Ratings, Ratings, Ratings]:
    return low_rank_split()


@pytest.fixture(scope="module")
def board() -> tuple[Ratings, Ratings]:
    return checkerboard()


class FittedModels(dict[str, Recommender[Any]]):
    """Registered models fitted on first use on the low-rank training data (shared, read-only)."""

    def __init__(self, train: Ratings) -> None:
        super().__init__()
        self.train = train

    def __missing__(self, name: str) -> Recommender[Any]:
        self[name] = fitted(name, self.train)
        return self[name]


@pytest.fixture(scope="module")
def models(low_rank: tuple[Ratings, Ratings, Ratings]) -> FittedModels:
    return FittedModels(low_rank[0])


def outcome(model: Recommender[Any]) -> list[np.ndarray]:
    """What a model produces: all scores, a new user's scores and list scores, and how many
    epochs it ran."""
    scores = model.score_users(np.arange(model.n_users))
    new_user = model.score_new_user([0, 1, 2, 5], [5.0, 1.0, 3.5, 4.0])
    new_list = model.rank_new_user([0, 1, 2, 5], [5.0, 1.0, 3.5, 4.0])
    return [scores, new_user, np.array([len(model.history_)]), new_list]


def same_outcome(first: list[np.ndarray], second: list[np.ndarray]) -> bool:
    return all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


# ---- known answers --------------------------------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
def test_known_answer_on_low_rank_ratings(
    name: str, low_rank: tuple[Ratings, Ratings, Ratings]
) -> None:
    train, _, test = low_rank
    model = fitted(name, train)
    if not model.predicts_ratings:
        pytest.skip(f"{name} is a ranker: checked on rankings, not RMSE")
    error = rmse(test.rating, model.predict(test.user_idx, test.movie_idx))
    mean_error = rmse(test.rating, np.full(len(test), train.mean()))
    if name == "global-mean":
        assert error == pytest.approx(mean_error, rel=1e-5)
    else:
        # Noiseless data with strong biases: any real model beats the mean by a wide margin.
        assert error < 0.75 * mean_error, f"{name}: RMSE {error:.3f} vs mean {mean_error:.3f}"


@pytest.mark.parametrize("name", MODELS)
def test_known_answer_on_a_checkerboard(name: str, board: tuple[Ratings, Ratings]) -> None:
    if name in NOT_PERSONAL or name in ZERO_FILLED:
        pytest.skip(f"{name}: {NOT_PERSONAL.get(name) or ZERO_FILLED[name]}")
    train, test = board
    model_type = model_class(name)
    if not model_type.predicts_ratings:
        # Rankers read any rating as a positive interaction: give them only the loved movies.
        train = train.take(train.rating >= 4.0)
    model = fitted(name, train)
    order = np.argsort(test.user_idx)
    users, held_out = test.user_idx[order], test.movie_idx[order]
    best = top_k(model.score_users(users), 1, exclude=train.user_movie_matrix()[users])[:, 0]
    hits = float(np.mean(best == held_out))
    assert hits >= 0.9, f"{name}: the held-out loved movie ranks first for {hits:.0%} of users"


@pytest.mark.parametrize("name", MODELS)
def test_known_answer_for_a_new_user(name: str, board: tuple[Ratings, Ratings]) -> None:
    if name in NOT_PERSONAL:
        pytest.skip(f"{name}: {NOT_PERSONAL[name]}")
    train, _ = board
    # Loves movies 0-5 of block one, dislikes 10-13 of block two: 6-9 must beat 14-19.
    movies, ratings = np.arange(10), np.array([5.0] * 6 + [1.0] * 4)
    movies[6:] += 4
    if not model_class(name).predicts_ratings:
        # Rankers read any rating as a positive interaction: only the loved movies are given.
        train, movies, ratings = train.take(train.rating >= 4.0), movies[:6], ratings[:6]
    model = fitted(name, train)
    scores = model.score_new_user(movies, ratings)
    assert scores.shape == (train.n_movies,) and np.all(np.isfinite(scores))
    assert scores[6:10].min() > scores[14:20].max(), f"{name}: {np.round(scores, 2)}"


# ---- shapes, clipping, batches, round trips --------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
def test_shapes_and_clipping(name: str, models: FittedModels) -> None:
    model = models[name]
    users = np.repeat(np.arange(model.n_users), model.n_movies)
    movies = np.tile(np.arange(model.n_movies), model.n_users)
    predicted = model.predict(users, movies)
    scores = model.score_users(np.arange(model.n_users))
    assert predicted.shape == users.shape and predicted.dtype == np.float32
    assert scores.shape == (model.n_users, model.n_movies) and scores.dtype == np.float32
    assert np.all(np.isfinite(scores))
    low, high = model.rating_scale_
    assert predicted.min() >= low and predicted.max() <= high
    if model.predicts_ratings:
        # score_users holds the same predictions before clipping.
        np.testing.assert_allclose(
            np.clip(scores.ravel(), low, high), predicted, rtol=1e-5, atol=1e-5
        )
    assert model.predict([], []).shape == (0,)


@pytest.mark.parametrize("name", MODELS)
def test_batch_equals_one_at_a_time(name: str, models: FittedModels) -> None:
    model = models[name]
    users = np.array([3, 0, 7, 3, 11])
    movies = np.array([1, 5, 0, 9, 2])
    batch = model.score_users(users)
    singles = np.vstack([model.score_users([user]) for user in users])
    np.testing.assert_allclose(batch, singles, rtol=1e-5, atol=1e-6)
    predicted = model.predict(users, movies)
    one_by_one = [model.predict([u], [m])[0] for u, m in zip(users, movies, strict=True)]
    np.testing.assert_allclose(predicted, one_by_one, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", MODELS)
def test_predict_new_users_equals_one_person_at_a_time(name: str, models: FittedModels) -> None:
    model = models[name]
    rows = sp.csr_matrix(
        (np.array([4.5, 2.0, 1.0, 5.0, 3.5, 4.0]), ([0, 0, 1, 2, 2, 2], [0, 3, 7, 1, 2, 5])),
        shape=(3, model.n_movies),
    )
    people, movies = np.array([2, 0, 2, 1, 0]), np.array([4, 1, 9, 0, 11])
    batch = model.predict_new_users(rows, people, movies)
    low, high = model.rating_scale_
    singles = [
        np.clip(model.score_new_user(rows[p].indices, rows[p].data)[m], low, high)
        for p, m in zip(people, movies, strict=True)
    ]
    assert batch.dtype == np.float32
    np.testing.assert_allclose(batch, singles, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("name", MODELS)
def test_parameters_and_saved_models_round_trip(
    name: str, models: FittedModels, tmp_path: Path
) -> None:
    model = models[name]
    expected = outcome(model)
    rebuilt = type(model).from_parameters(model.config, model.parameters())
    assert same_outcome(outcome(rebuilt)[:2], expected[:2])
    loaded = load_model(save_model(model, tmp_path / name))
    assert type(loaded) is type(model) and loaded.config == model.config
    assert same_outcome(outcome(loaded), expected)
    assert loaded.data_fingerprint_ == model.data_fingerprint_


# ---- config fields and seeds -----------------------------------------------------------------


def _alternatives(value: object, hint: object) -> list[object]:
    """Other values of a field's type, nearest first; the caller keeps the valid ones."""
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        if value is None:
            return [choice for arg in options for choice in _examples(arg)]
        return [None, *(choice for arg in options for choice in _alternatives(value, arg))]
    if origin is Literal:
        return [choice for choice in get_args(hint) if choice != value]
    if origin is tuple and isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return [value[:-1], value[1:]]
    if origin is tuple and isinstance(value, tuple):
        return [tuple(max(1, int(v) // 2) for v in value), (*value, *value[-1:])]
    if hint is bool:
        return [not value]
    if hint is int and isinstance(value, int):
        candidates = (value * 2, value // 2, max(1, value // 10), value + 1, value - 1)
        return [v for v in dict.fromkeys(candidates) if v != value]
    if hint is float and isinstance(value, float):
        if value == 0.0:
            return [0.5, 0.1, 1.0]
        return [value * 2, value / 2, value * 10, value / 10, value * 100]
    return []


def _examples(hint: object) -> list[object]:
    """Values to try where a field is None by default (Optional fields)."""
    if hint is float:
        return [4.0, 3.0, 0.5]
    if hint is int:
        return [1, 2, 5]
    return []


def _valid(base: Config, field: str, value: object) -> Config | None:
    try:
        return dataclasses.replace(base, **{field: value})  # type: ignore[arg-type]
    except ConfigError:
        return None


def _field_cases() -> list[Any]:
    cases = []
    for name in MODELS:
        for field in dataclasses.fields(model_class(name).config_type):
            marks = [pytest.mark.slow] if name in SLOW_FIELD_MODELS else []
            cases.append(pytest.param(name, field.name, id=f"{name}.{field.name}", marks=marks))
    return cases


SLOW_FIELD_MODELS = {"autorec", "blend", "nmf", "svdpp"}
"""Models whose field sweep takes seconds: marked slow (still run in CI)."""


@pytest.mark.parametrize(("name", "field"), _field_cases())
@pytest.mark.slow
def test_every_config_field_changes_the_result(
    name: str, field: str, low_rank: tuple[Ratings, Ratings, Ratings]
) -> None:
    if (name, field) in INERT_FIELDS:
        pytest.skip(f"{name}.{field}: {INERT_FIELDS[name, field]}")
    if field == "seed" and name in DETERMINISTIC:
        pytest.skip(f"{name} is deterministic: {DETERMINISTIC[name]}")
    cls = model_class(name)
    context = {**LOOP_CONTEXT.get(field, {}), **FIELD_CONTEXT.get((name, field), {})}
    base = fast_config(cls, **context)
    train, validation, _ = low_rank
    expected = outcome(cls(base).fit(train, validation))
    hints = typing.get_type_hints(cls.config_type)
    tried = []
    current = getattr(base, field)
    appended = FIELD_VALUES.get((name, field))
    options = [(*current, *appended)] if appended else _alternatives(current, hints[field])
    for value in options:
        changed = _valid(base, field, value)
        if changed is None:
            continue
        tried.append(value)
        if not same_outcome(outcome(cls(changed).fit(train, validation)), expected):
            return
        if len(tried) == 5:
            break
    pytest.fail(f"{name}.{field}: the output is the same for {getattr(base, field)!r} and {tried}")


@pytest.mark.parametrize("name", MODELS)
def test_same_seed_same_model(name: str, low_rank: tuple[Ratings, Ratings, Ratings]) -> None:
    train = low_rank[0]
    first, second = fitted(name, train, seed=5), fitted(name, train, seed=5)
    assert same_outcome(outcome(first)[:2], outcome(second)[:2])
    for key, array in first.parameters().items():
        np.testing.assert_array_equal(second.parameters()[key], array)
    if name in DETERMINISTIC:
        # No random choice: another seed gives the very same model (the field sweep skips it).
        assert same_outcome(outcome(fitted(name, train, seed=6))[:2], outcome(first)[:2])


# ---- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
def test_divergence_and_nan_ratings_raise_clear_errors(
    name: str, low_rank: tuple[Ratings, Ratings, Ratings]
) -> None:
    train = low_rank[0]
    nan = train.with_ratings(np.where(np.arange(len(train)) == 5, np.nan, train.rating))
    with pytest.raises(DataError, match="NaN"):
        fitted(name, nan)
    cls = model_class(name)
    if "learning_rate" not in {field.name for field in dataclasses.fields(cls.config_type)}:
        return
    # The largest learning rate the config accepts, up to an absurd one.
    base = fast_config(cls)
    absurd = next(rate for rate in (1e6, 1e3, 10.0, 1.0) if _valid(base, "learning_rate", rate))
    model = cls(fast_config(cls, learning_rate=absurd))
    with pytest.raises(ModelFitError, match=r"NaN|infinite|diverged"):
        model.fit(train)
    assert not model.is_fitted and model.history_ == []
    with pytest.raises(NotFittedError):
        model.predict([0], [0])


class _Interrupt:
    """A callback that presses Ctrl-C at the end of the first epoch."""

    def __call__(self, record: dict[str, float]) -> None:
        raise KeyboardInterrupt


@pytest.mark.parametrize("name", MODELS)
def test_a_failed_refit_leaves_the_model_as_it_was(
    name: str, low_rank: tuple[Ratings, Ratings, Ratings]
) -> None:
    train = low_rank[0]
    model = fitted(name, train)
    before = {key: value.copy() for key, value in model.parameters().items()}
    history, fingerprint = list(model.history_), model.data_fingerprint_
    other = train.take(np.arange(len(train)) % 2 == 0)
    with pytest.raises(DataError):
        model.fit(other.with_ratings(np.full(len(other), np.nan)))
    if model.history_:
        with pytest.raises(KeyboardInterrupt):
            model.fit(other, options=FitOptions(callbacks=[_Interrupt()]))
    after = model.parameters()
    assert set(after) == set(before)
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=f"{name}: {key}")
    assert model.history_ == history and model.data_fingerprint_ == fingerprint


def _field_names(cls: type[Recommender[Any]]) -> set[str]:
    return {field.name for field in dataclasses.fields(cls.config_type)}


PATIENCE_GAPS: dict[str, str] = {}
"""Models that do not yet refuse ``patience`` without validation (issue 11, item 4), and why."""


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(reason=PATIENCE_GAPS[name]))
        if name in PATIENCE_GAPS
        else name
        for name in MODELS
    ],
)
def test_patience_without_validation_is_refused_before_epoch_one(
    name: str, low_rank: tuple[Ratings, Ratings, Ratings]
) -> None:
    cls = model_class(name)
    if "patience" not in _field_names(cls):
        pytest.skip(f"{name} has no early stopping")
    # Models that hold out their own validation share when fit gets none are given none.
    own_share = {"validation_fraction": 0.0} if "validation_fraction" in _field_names(cls) else {}
    model, epochs = cls(fast_config(cls, patience=1, **own_share)), []
    with pytest.raises(ConfigError, match="patience"):
        model.fit(low_rank[0], options=FitOptions(callbacks=[epochs.append]))
    assert epochs == [] and not model.is_fitted


@pytest.mark.parametrize("name", MODELS)
def test_every_callback_is_called_each_epoch(
    name: str, low_rank: tuple[Ratings, Ratings, Ratings]
) -> None:
    calls: list[tuple[str, float]] = []

    def stopper(record: dict[str, float]) -> bool:
        calls.append(("stopper", record["epoch"]))
        return record["epoch"] >= 2

    def watcher(record: dict[str, float]) -> None:
        calls.append(("watcher", record["epoch"]))

    cls = model_class(name)
    model = cls(fast_config(cls)).fit(low_rank[0], options=FitOptions(callbacks=[stopper, watcher]))
    # Each epoch calls both, in order, even after the stopper has asked to stop (a blend
    # passes the callbacks on to each of its parts' fits, so it sees their epochs).
    seen = [epoch for _, epoch in calls[0::2]]
    assert calls[0::2] == [("stopper", epoch) for epoch in seen]
    assert calls[1::2] == [("watcher", epoch) for epoch in seen]
    assert all(epoch <= 2 for epoch in seen)
    if name != "blend":
        assert seen == [record["epoch"] for record in model.history_]


@pytest.mark.parametrize("name", MODELS)
def test_unknown_indices_and_unfitted_use(name: str, models: FittedModels) -> None:
    model = models[name]
    with pytest.raises(UnknownIdError, match=str(model.n_users)):
        model.predict([model.n_users], [0])
    with pytest.raises(UnknownIdError, match="-1"):
        model.score_users([-1])
    with pytest.raises(UnknownIdError, match="movie index"):
        model.score_new_user([model.n_movies], [4.0])
    with pytest.raises(NotFittedError):
        type(model)(model.config).predict([0], [0])


@pytest.mark.parametrize("name", MODELS)
def test_new_user_fold_in(name: str, models: FittedModels) -> None:
    model = models[name]
    scores = model.score_new_user([0, 3], [4.5, 2.0])
    assert scores.shape == (model.n_movies,) and np.all(np.isfinite(scores))
    again = model.score_new_user([0, 3], [4.5, 2.0])
    np.testing.assert_array_equal(scores, again)
    for movies, ratings, message in [
        ([], [], "at least one"),
        ([0, 1], [4.0], "2 movies but 1"),
        ([0], [9.0], "rating scale"),
        ([2, 2], [3.0, 4.0], "twice"),
    ]:
        with pytest.raises(DataError, match=message):
            model.score_new_user(movies, ratings)


@pytest.mark.parametrize("name", MODELS)
def test_new_user_scores_of_a_few_movies_are_those_of_every_movie(
    name: str, models: FittedModels
) -> None:
    """``score_new_user_at`` picks ``score_new_user``'s scores (factor models score only those)."""
    model = models[name]
    every = model.score_new_user([0, 3, 5], [4.5, 2.0, 3.0])
    wanted = np.array([model.n_movies - 1, 1, 4, 1])
    few = model.score_new_user_at([0, 3, 5], [4.5, 2.0, 3.0], wanted)
    assert few.dtype == np.float32 and few.shape == (4,)
    np.testing.assert_allclose(few, every[wanted], rtol=1e-6, atol=1e-6)
    with pytest.raises(UnknownIdError, match="movie index"):
        model.score_new_user_at([0], [4.0], [model.n_movies])
    with pytest.raises(DataError, match="twice"):
        model.score_new_user_at([2, 2], [3.0, 4.0], [0])
