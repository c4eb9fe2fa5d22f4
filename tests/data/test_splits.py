"""Splits: Hypothesis properties (disjoint, covering, per-user rules, seeding) and errors."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matinee.data.dataset import Dataset
from matinee.data.loader import load_dataset
from matinee.data.ratings import Ratings
from matinee.data.split import Split
from matinee.data.split_spec import SPEC_FORMS, SPLIT_KINDS, split_from_spec
from matinee.data.splits import (
    hidden_ratings,
    kfold,
    per_user_holdout,
    random_split,
    temporal_split,
    user_split,
)
from matinee.errors import SplitError
from matinee.settings import Settings

HALF_STARS = [x / 2 for x in range(1, 11)]


@st.composite
def ratings_data(draw: st.DrawFn, min_size: int = 2, max_size: int = 80) -> Ratings:
    """Small ratings with distinct (user, movie) pairs, half-star values and tied timestamps."""
    pairs = draw(
        st.lists(
            st.tuples(st.integers(1, 12), st.integers(1, 20)),
            min_size=min_size,
            max_size=max_size,
            unique=True,
        )
    )
    n = len(pairs)
    values = draw(st.lists(st.sampled_from(HALF_STARS), min_size=n, max_size=n))
    times = draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))
    users, movies = zip(*pairs, strict=True)
    return Ratings.from_raw(users, movies, values, times)


def rows(ratings: Ratings) -> npt.NDArray[np.int64]:
    """All (user, movie, rating, time) rows as raw values, sorted, for comparing parts."""
    user = ratings.users.raw_ids[ratings.user_idx]
    movie = ratings.movies.raw_ids[ratings.movie_idx]
    order = np.argsort(user * 2**32 + movie, kind="stable")
    table = np.column_stack([user, movie, (ratings.rating * 2).astype(np.int64), ratings.timestamp])
    return table[order]


def parts(split: Split) -> list[Ratings]:
    return [p for p in (split.train, split.test, split.validation, split.fold_in) if p is not None]


def assert_disjoint_and_covering(split: Split, source: Ratings) -> None:
    keys = np.concatenate(
        [p.user_idx.astype(np.int64) * p.n_movies + p.movie_idx for p in parts(split)]
    )
    assert np.unique(keys).size == keys.size, "a (user, movie) pair is in two parts"
    together = Ratings(
        np.concatenate([p.user_idx for p in parts(split)]),
        np.concatenate([p.movie_idx for p in parts(split)]),
        np.concatenate([p.rating for p in parts(split)]),
        np.concatenate([p.timestamp for p in parts(split)]),
        split.train.users,
        split.train.movies,
    )
    np.testing.assert_array_equal(rows(together), rows(source))


def same_split(a: Split, b: Split) -> bool:
    return all(np.array_equal(rows(x), rows(y)) for x, y in zip(parts(a), parts(b), strict=True))


@pytest.fixture(scope="module")
def dataset100k(settings: Settings) -> Dataset:
    return load_dataset("ml-100k", settings=settings)


@pytest.fixture(scope="module")
def ml100k(dataset100k: Dataset) -> Ratings:
    return dataset100k.ratings


@given(ratings_data(), st.floats(0.05, 0.6), st.sampled_from([0.0, 0.2]), st.integers(0, 3))
@settings(deadline=None)
def test_random_split_is_disjoint_covering_and_seeded(
    ratings: Ratings, test_fraction: float, validation_fraction: float, seed: int
) -> None:
    try:
        split = random_split(
            ratings, test_fraction=test_fraction, validation_fraction=validation_fraction, seed=seed
        )
    except SplitError:
        n_test = max(1, int(np.floor(test_fraction * len(ratings) + 0.5)))
        n_val = max(1, int(np.floor(validation_fraction * len(ratings) + 0.5)))
        assert n_test + (n_val if validation_fraction else 0) >= len(ratings)
        return
    assert_disjoint_and_covering(split, ratings)
    assert len(split.test) == max(1, int(np.floor(test_fraction * len(ratings) + 0.5)))
    assert (split.validation is None) == (validation_fraction == 0.0)
    again = random_split(
        ratings, test_fraction=test_fraction, validation_fraction=validation_fraction, seed=seed
    )
    assert same_split(split, again)


@given(ratings_data(min_size=5), st.integers(2, 5), st.integers(0, 3))
@settings(deadline=None)
def test_kfold_test_folds_partition_the_data(ratings: Ratings, k: int, seed: int) -> None:
    folds = kfold(ratings, k, seed=seed)
    assert len(folds) == k
    for fold in folds:
        assert_disjoint_and_covering(fold, ratings)
    sizes = [len(f.test) for f in folds]
    assert max(sizes) - min(sizes) <= 1
    tests = Ratings(
        np.concatenate([f.test.user_idx for f in folds]),
        np.concatenate([f.test.movie_idx for f in folds]),
        np.concatenate([f.test.rating for f in folds]),
        np.concatenate([f.test.timestamp for f in folds]),
        ratings.users,
        ratings.movies,
    )
    np.testing.assert_array_equal(rows(tests), rows(ratings))


@given(ratings_data(), st.floats(0.1, 0.4), st.sampled_from([0.0, 0.2]), st.integers(0, 3))
@settings(deadline=None)
def test_user_split_puts_each_user_in_one_part(
    ratings: Ratings, test_fraction: float, validation_fraction: float, seed: int
) -> None:
    try:
        split = user_split(
            ratings, test_fraction=test_fraction, validation_fraction=validation_fraction, seed=seed
        )
    except SplitError:
        assert np.count_nonzero(ratings.user_counts()) < 2 + (validation_fraction > 0)
        return
    assert_disjoint_and_covering(split, ratings)
    user_sets = [set(p.user_idx.tolist()) for p in parts(split)]
    for i, first in enumerate(user_sets):
        for second in user_sets[i + 1 :]:
            assert not first & second
    assert split.cold_start().unseen_user == len(split.test)


@given(
    ratings_data(),
    st.integers(1, 4),
    st.integers(0, 3),
    st.sampled_from(["random", "latest"]),
    st.booleans(),
    st.integers(0, 3),
)
@settings(deadline=None)
def test_per_user_holdout_n_keeps_its_per_user_rules(
    ratings: Ratings, n: int, min_train: int, strategy: str, validation: bool, seed: int
) -> None:
    counts = ratings.user_counts()
    try:
        split = per_user_holdout(
            ratings,
            n=n,
            strategy="latest" if strategy == "latest" else "random",
            min_train=min_train,
            validation=validation,
            seed=seed,
        )
    except SplitError:
        assert counts.max() <= min_train
        return
    assert_disjoint_and_covering(split, ratings)
    spare = np.maximum(counts - min_train, 0)
    test_counts = split.test.user_counts()
    np.testing.assert_array_equal(test_counts, np.minimum(n, spare))
    np.testing.assert_array_equal(split.train.user_counts() >= np.minimum(counts, min_train), True)
    if validation:
        assert split.validation is not None
        expected_val = np.minimum(test_counts, spare - test_counts)
        np.testing.assert_array_equal(split.validation.user_counts(), expected_val)
    if strategy == "latest":
        assert_held_out_is_latest(split)


def assert_held_out_is_latest(split: Split) -> None:
    """Per user: test times >= validation times >= train times."""
    n_users = split.train.n_users
    train_last = np.full(n_users, np.iinfo(np.int64).min)
    np.maximum.at(train_last, split.train.user_idx, split.train.timestamp)
    later = [split.validation, split.test] if split.validation is not None else [split.test]
    for part in later:
        assert np.all(part.timestamp >= train_last[part.user_idx])
        train_last = np.maximum(train_last, _last_times(part, n_users))


def _last_times(part: Ratings, n_users: int) -> npt.NDArray[np.int64]:
    last = np.full(n_users, np.iinfo(np.int64).min)
    np.maximum.at(last, part.user_idx, part.timestamp)
    return last


@given(ratings_data(), st.floats(0.1, 0.9), st.integers(0, 3))
@settings(deadline=None)
def test_per_user_holdout_fraction_holds_out_a_rounded_share(
    ratings: Ratings, fraction: float, seed: int
) -> None:
    counts = ratings.user_counts()
    wanted = np.minimum(np.floor(fraction * counts + 0.5), np.maximum(counts - 1, 0))
    if not wanted.any():
        with pytest.raises(SplitError, match="min_train"):
            per_user_holdout(ratings, fraction=fraction, seed=seed)
        return
    split = per_user_holdout(ratings, fraction=fraction, seed=seed)
    assert_disjoint_and_covering(split, ratings)
    np.testing.assert_array_equal(split.test.user_counts(), wanted)
    assert split.cold_start().unseen_user == 0


@given(ratings_data(), st.floats(0.05, 0.6))
@settings(deadline=None)
def test_temporal_split_cuts_at_one_time(ratings: Ratings, test_fraction: float) -> None:
    try:
        split = temporal_split(ratings, test_fraction=test_fraction)
    except SplitError:
        n_test = max(1, int(np.floor(test_fraction * len(ratings) + 0.5)))
        assert np.sort(ratings.timestamp)[-n_test] == ratings.timestamp.min()
        return
    assert_disjoint_and_covering(split, ratings)
    cutoff = int(split.name.split("=")[1].rstrip(")"))
    assert split.train.timestamp.max() < cutoff <= split.test.timestamp.min()
    assert len(split.test) >= int(np.floor(test_fraction * len(ratings) + 0.5))
    by_cutoff = temporal_split(ratings, cutoff=cutoff)
    assert same_split(split, by_cutoff)


@given(
    ratings_data(min_size=10),
    st.floats(0.1, 0.4),
    st.sampled_from([0.0, 0.2]),
    st.floats(0.1, 0.8),
    st.sampled_from([None, 3, 8]),
    st.integers(0, 3),
)
@settings(deadline=None, max_examples=60)
def test_hidden_ratings_hides_part_of_held_out_users(
    ratings: Ratings,
    test_users: float,
    validation_users: float,
    hidden: float,
    top: int | None,
    seed: int,
) -> None:
    try:
        split = hidden_ratings(
            ratings,
            test_users=test_users,
            validation_users=validation_users,
            hidden_fraction=hidden,
            top_users=top,
            seed=seed,
        )
    except SplitError as error:
        assert "eligible" in str(error)
        return
    source = ratings if top is None else _top(ratings, top)
    assert_disjoint_and_covering(split, source)
    assert split.fold_in is not None
    test_users_idx = set(split.test.user_idx.tolist())
    assert test_users_idx == set(split.fold_in.user_idx.tolist())
    assert not test_users_idx & set(split.train.user_idx.tolist())
    counts = split.test.user_counts() + split.fold_in.user_counts()
    held = counts > 0
    expected = np.clip(np.floor(hidden * counts + 0.5), 1, counts - 1)
    np.testing.assert_array_equal(split.test.user_counts()[held], expected[held])
    if validation_users:
        assert split.validation is not None
        assert not set(split.validation.user_idx.tolist()) & test_users_idx


def _top(ratings: Ratings, n: int) -> Ratings:
    order = np.argsort(-ratings.user_counts(), kind="stable")[:n]
    keep = np.zeros(ratings.n_users, dtype=bool)
    keep[order] = True
    return ratings.take(keep[ratings.user_idx]).compact()


@pytest.mark.parametrize(
    "make",
    [
        lambda r, s: random_split(r, test_fraction=0.1, seed=s),
        lambda r, s: kfold(r, 5, seed=s)[0],
        lambda r, s: user_split(r, seed=s),
        lambda r, s: per_user_holdout(r, n=3, seed=s),
        lambda r, s: hidden_ratings(r, top_users=300, seed=s),
    ],
    ids=["random", "kfold", "user", "per-user", "hidden-ratings"],
)
def test_seeds_decide_the_split(ml100k: Ratings, make: object) -> None:
    assert callable(make)
    first, again, other = make(ml100k, 0), make(ml100k, 0), make(ml100k, 1)
    assert same_split(first, again)
    assert not np.array_equal(rows(first.test), rows(other.test))


def test_latest_holdout_on_ml100k_matches_ua_sizes(ml100k: Ratings) -> None:
    split = per_user_holdout(ml100k, n=10, strategy="latest")
    assert (len(split.train), len(split.test)) == (90_570, 9_430)
    assert_held_out_is_latest(split)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: random_split(r, test_fraction=0.0), "test_fraction"),
        (lambda r: random_split(r, test_fraction=0.6, validation_fraction=0.5), "no training"),
        (lambda r: kfold(r, 1), "k must be"),
        (lambda r: kfold(r, 13), "13 folds"),
        (lambda r: user_split(r, test_fraction=1.5), "1.5"),
        (lambda r: per_user_holdout(r), "exactly one of n or fraction"),
        (lambda r: per_user_holdout(r, n=0), "n must be"),
        (lambda r: per_user_holdout(r, n=1, min_train=-1), "min_train"),
        (lambda r: per_user_holdout(r, n=1, strategy="oldest"), "oldest"),
        (lambda r: per_user_holdout(r, n=1, min_train=5), "min_train=5"),
        (lambda r: temporal_split(r), "exactly one of cutoff"),
        (lambda r: temporal_split(r, cutoff=10**10), "empty part"),
        (lambda r: hidden_ratings(r, hidden_fraction=1.0), "hidden_fraction"),
        (lambda r: hidden_ratings(r, test_users=0.9), "eligible"),
        (lambda r: hidden_ratings(r, top_users=0), "top_users"),
        (lambda r: random_split(r.take(np.array([0]))), "1 rating"),
    ],
)
def test_bad_arguments_raise_split_error_naming_them(
    tiny: Ratings, call: object, message: str
) -> None:
    assert callable(call)
    with pytest.raises(SplitError, match=message):
        call(tiny)


def dataset_of(ratings: Ratings) -> Dataset:
    movies = pl.DataFrame({"movie_id": ratings.movies.raw_ids})
    return Dataset(name="ml-100k", ratings=ratings, movies=movies)


@pytest.mark.parametrize(
    ("spec", "count", "test_size"),
    [
        ("random:0.1", 1, 10_000),
        ("random:0.1,seeds=5", 5, 10_000),
        ("random:test=0.2,validation=0.1,seed=3", 1, 20_000),
        ("kfold:5", 5, 20_000),
        ("kfold:k=4,seeds=2", 8, 25_000),
        ("user:0.1,0.1", 1, None),
        ("per-user:n=10,latest", 1, 9_430),
        ("per-user:0.2", 1, 20_000),
        ("per-user:n=5,latest,min-train=2,validation", 1, 4_715),
        ("temporal:0.1", 1, 10_000),
        (" hidden-ratings:users=0.1,hidden=0.2,top=500 ", 1, None),
    ],
)
def test_specs_make_the_splits_they_name(
    ml100k: Ratings, spec: str, count: int, test_size: int | None
) -> None:
    splits = split_from_spec(dataset_of(ml100k), spec)
    assert len(splits) == count
    if test_size is not None:
        assert {len(s.test) for s in splits} == {test_size}
    for split in splits:
        assert_disjoint_and_covering(split, _source_of(ml100k, spec))


def _source_of(ratings: Ratings, spec: str) -> Ratings:
    return _top(ratings, 500) if "top=500" in spec else ratings


@pytest.mark.parametrize(
    ("spec", "sizes"),
    [
        ("u1-u5", [(80_000, 20_000)] * 5),
        ("ua", [(90_570, 9_430)]),
        ("ua-ub", [(90_570, 9_430)] * 2),
    ],
)
def test_canonical_specs_read_the_published_folds(
    dataset100k: Dataset, settings: Settings, spec: str, sizes: list[tuple[int, int]]
) -> None:
    splits = split_from_spec(dataset100k, spec, settings=settings)
    assert [(len(s.train), len(s.test)) for s in splits] == sizes
    for split in splits:
        assert_disjoint_and_covering(split, dataset100k.ratings)


def test_repeated_seeds_differ(ml100k: Ratings) -> None:
    splits = split_from_spec(dataset_of(ml100k), "random:0.1,seed=7,seeds=2")
    assert same_split(splits[0], random_split(ml100k, test_fraction=0.1, seed=7))
    assert same_split(splits[1], random_split(ml100k, test_fraction=0.1, seed=8))


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "shuffle:0.1",
        "random:abc",
        "random:0.1,0.2",
        "random:0.1,colour=red",
        "kfold:2.5",
        "temporal:0.1,seed=3",
        "per-user:n=5,oldest",
        "random:0.1,seeds=0",
        "u6",
    ],
)
def test_bad_specs_list_the_valid_forms(tiny: Ratings, spec: str) -> None:
    with pytest.raises(SplitError, match="valid forms") as caught:
        split_from_spec(dataset_of(tiny), spec)
    assert SPEC_FORMS in str(caught.value)


def test_spec_errors_from_the_data_name_the_problem(tiny: Ratings) -> None:
    with pytest.raises(SplitError, match="folds"):
        split_from_spec(dataset_of(tiny), "kfold:50")


def test_the_readme_lists_exactly_the_split_kinds_of_the_table() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    paragraph = readme[readme.index("`--split` takes") :].split("\n\n")[0]
    named = set(re.findall(r"`([a-z-]+):", paragraph))
    assert named == set(SPLIT_KINDS), f"README names {sorted(named)}"


def test_help_has_one_form_per_table_row() -> None:
    for kind, row in SPLIT_KINDS.items():
        assert f"{kind}:{row.usage}" in SPEC_FORMS and row.example in SPEC_FORMS
