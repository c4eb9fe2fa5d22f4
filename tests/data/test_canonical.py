from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from matinee.data.canonical import CANONICAL_FOLDS, canonical_folds, canonical_split
from matinee.data.dataset import Dataset
from matinee.data.loader import load_dataset
from matinee.errors import SplitError
from matinee.settings import Settings


@pytest.fixture(scope="module")
def ml100k(settings: Settings) -> Dataset:
    return load_dataset("ml-100k", settings=settings)


def file_rows(path: Path) -> list[tuple[int, int, float, int]]:
    """The fold file parsed independently, line by line."""
    rows = []
    for line in path.read_text().splitlines():
        user, movie, rating, time = line.split("\t")
        rows.append((int(user), int(movie), float(rating), int(time)))
    return rows


@pytest.mark.parametrize("fold", CANONICAL_FOLDS)
def test_fold_equals_the_release_files_row_for_row(
    ml100k: Dataset, settings: Settings, mirror: Path, fold: str
) -> None:
    split = canonical_split(ml100k, fold, settings=settings)
    assert split.name == fold
    for part, suffix in ((split.train, "base"), (split.test, "test")):
        assert part.users is ml100k.ratings.users
        assert part.movies is ml100k.ratings.movies
        assert part.rating_scale == (1.0, 5.0)
        expected = file_rows(mirror / "ml-100k" / f"{fold}.{suffix}")
        assert part.to_polars().rows() == expected


def test_five_folds_partition_the_ratings(ml100k: Dataset, settings: Settings) -> None:
    folds = canonical_folds(ml100k, settings=settings)
    assert [split.name for split in folds] == ["u1", "u2", "u3", "u4", "u5"]
    n_movies = ml100k.ratings.n_movies
    all_keys = np.sort(
        ml100k.ratings.user_idx.astype(np.int64) * n_movies + ml100k.ratings.movie_idx
    )
    tests = []
    for split in folds:
        assert (len(split.train), len(split.test)) == (80_000, 20_000)
        train = split.train.user_idx.astype(np.int64) * n_movies + split.train.movie_idx
        test = split.test.user_idx.astype(np.int64) * n_movies + split.test.movie_idx
        assert not np.intersect1d(train, test).size
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), all_keys)
        tests.append(test)
    np.testing.assert_array_equal(np.sort(np.concatenate(tests)), all_keys)


@pytest.mark.parametrize("fold", ["ua", "ub"])
def test_ua_ub_sizes(ml100k: Dataset, settings: Settings, fold: str) -> None:
    split = canonical_split(ml100k, fold, settings=settings)
    assert (len(split.train), len(split.test)) == (90_570, 9_430)
    assert np.all(split.test.user_counts() == 10)


def test_only_ml100k_has_canonical_folds(settings: Settings) -> None:
    small = load_dataset("ml-latest-small", settings=settings)
    with pytest.raises(SplitError, match="only for ml-100k"):
        canonical_split(small, "u1", settings=settings)


def test_unknown_fold(ml100k: Dataset, settings: Settings) -> None:
    with pytest.raises(SplitError, match=r"u6.*valid folds: u1"):
        canonical_split(ml100k, "u6", settings=settings)


def test_folds_from_a_zip_mirror(ml100k: Dataset, mirror: Path, tmp_path: Path) -> None:
    zipped = tmp_path / "mirror" / "ml-100k.zip"
    zipped.parent.mkdir()
    with zipfile.ZipFile(zipped, "w") as archive:
        for name in ("u.data", "u.item", "u.user", "u.genre", "u2.base", "u2.test"):
            archive.write(mirror / "ml-100k" / name, f"ml-100k/{name}")
    settings = Settings(cache_dir=tmp_path / "cache", mirror=zipped.parent, show_progress=False)
    split = canonical_split(ml100k, "u2", settings=settings)
    assert split.test.to_polars().rows() == file_rows(mirror / "ml-100k" / "u2.test")
    with pytest.raises(SplitError, match=r"u3\.base is missing"):
        canonical_split(ml100k, "u3", settings=settings)
