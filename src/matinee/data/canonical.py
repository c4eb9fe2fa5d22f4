"""The canonical ml-100k folds GroupLens published: ``u1``-``u5`` (5-fold) and ``ua``/``ub``.

The folds are read from the release's own ``uN.base``/``uN.test`` files, row for row, and indexed
with the id maps of the loaded dataset, so results can be compared with published numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from matinee.data.dataset import Dataset
from matinee.data.loader import detect_layout, release_path
from matinee.data.ratings import Ratings
from matinee.data.readers import LAYOUT_RATINGS_FILE, Source, read_raw_ratings
from matinee.data.split import Split
from matinee.errors import SplitError, UnknownIdError
from matinee.settings import Settings

__all__ = ["CANONICAL_FOLDS", "canonical_folds", "canonical_split"]

CANONICAL_FOLDS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")
"""Fold names shipped with ml-100k: five 80/20 folds, and two with 10 test ratings per user."""


def canonical_split(dataset: Dataset, fold: str, *, settings: Settings | None = None) -> Split:
    """The published ml-100k fold ``fold`` (``u1``..``u5``, ``ua``, ``ub``) over ``dataset``'s ids.

    Raises:
        SplitError: ``dataset`` is not ml-100k, ``fold`` is unknown, or a fold file names a user or
            movie that ``dataset`` does not hold.
    """
    if dataset.name != "ml-100k":
        raise SplitError(
            f"canonical folds exist only for ml-100k, not for {dataset.name!r}; "
            "use a random or temporal split instead"
        )
    if fold not in CANONICAL_FOLDS:
        raise SplitError(
            f"unknown canonical fold {fold!r}; valid folds: {', '.join(CANONICAL_FOLDS)}"
        )
    source, _ = detect_layout(release_path("ml-100k", settings=settings), layout="ml-100k")
    train = _read_part(source, f"{fold}.base", dataset)
    test = _read_part(source, f"{fold}.test", dataset)
    return Split(train=train, test=test, name=fold)


def canonical_folds(
    dataset: Dataset,
    names: Sequence[str] = ("u1", "u2", "u3", "u4", "u5"),
    *,
    settings: Settings | None = None,
) -> list[Split]:
    """Several canonical folds (by default the five-fold cross-validation ``u1``..``u5``)."""
    return [canonical_split(dataset, name, settings=settings) for name in names]


def _read_part(source: Source, file_name: str, dataset: Dataset) -> Ratings:
    """One ``.base`` or ``.test`` file as ratings indexed by ``dataset``'s id maps."""
    if not source.has(file_name):
        raise SplitError(f"{source.display(file_name)} is missing from the ml-100k release")
    _, fmt = LAYOUT_RATINGS_FILE["ml-100k"]
    ratings = dataset.ratings
    raw = read_raw_ratings(source, file_name, fmt, rating_scale=ratings.rating_scale)
    try:
        user_idx = ratings.users.indices(raw.user_id)
        movie_idx = ratings.movies.indices(raw.movie_id)
    except UnknownIdError as error:
        raise SplitError(f"{source.display(file_name)}: {error}") from error
    return Ratings(
        user_idx,
        movie_idx,
        raw.rating,
        raw.timestamp,
        ratings.users,
        ratings.movies,
        ratings.rating_scale,
    )
