"""Matinee: train, evaluate, explain and serve movie recommenders built on MovieLens ratings.

The names here are the public API; each lives in the sub-package that a reader would look in
(``matinee.data``, ``matinee.models``, ``matinee.evaluation``, ``matinee.recommend``,
``matinee.store``, ``matinee.explain``). They load on first use (PEP 562), so ``import matinee``
costs milliseconds and pulls in no numpy, polars, numba, model code or torch; ``from matinee
import Ratings`` loads just what ``Ratings`` needs.

Importing Matinee changes no process-wide setting. (The OpenMP spin-wait default that the
compiled kernels want is set by :mod:`matinee._openmp`, where those kernels load.)
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType as _ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matinee.data.canonical import canonical_folds, canonical_split
    from matinee.data.dataset import Dataset
    from matinee.data.filters import (
        MinMovieMean,
        MinMovieRatings,
        MinUserRatings,
        RatingThreshold,
        TopUsers,
        apply_filters,
        filter_dataset,
    )
    from matinee.data.ids import IdMap
    from matinee.data.loader import load_dataset, read_local
    from matinee.data.ratings import Ratings
    from matinee.data.split import Split
    from matinee.data.split_spec import split_from_spec
    from matinee.data.splits import (
        hidden_ratings,
        kfold,
        per_user_holdout,
        random_split,
        temporal_split,
        user_split,
    )
    from matinee.data.synthetic import generate_ratings, write_synthetic_release
    from matinee.errors import (
        ChecksumError,
        ConfigError,
        DataError,
        DownloadError,
        MalformedFileError,
        MatineeError,
        ModelFitError,
        ModelFormatError,
        NotFittedError,
        SplitError,
        UnknownIdError,
        UnknownReleaseError,
    )
    from matinee.evaluation.compare import compare
    from matinee.evaluation.evaluate import cross_validate, evaluate, fit_and_evaluate
    from matinee.models.registry import available_models, model_class
    from matinee.recommend import find_movies, recommend, recommend_new_user, similar_movies
    from matinee.service import ListFilters, ModelBundle
    from matinee.settings import Settings
    from matinee.store.files import load_model, save_model
    from matinee.training.loop import FitOptions

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "matinee.data.canonical": "canonical_folds canonical_split",
    "matinee.data.dataset": "Dataset",
    "matinee.data.filters": (
        "MinMovieMean MinMovieRatings MinUserRatings RatingThreshold TopUsers apply_filters "
        "filter_dataset"
    ),
    "matinee.data.ids": "IdMap",
    "matinee.data.loader": "load_dataset read_local",
    "matinee.data.ratings": "Ratings",
    "matinee.data.split": "Split",
    "matinee.data.split_spec": "split_from_spec",
    "matinee.data.splits": (
        "hidden_ratings kfold per_user_holdout random_split temporal_split user_split"
    ),
    "matinee.data.synthetic": "generate_ratings write_synthetic_release",
    "matinee.errors": (
        "ChecksumError ConfigError DataError DownloadError MalformedFileError MatineeError "
        "ModelFitError ModelFormatError NotFittedError SplitError UnknownIdError "
        "UnknownReleaseError"
    ),
    "matinee.evaluation.compare": "compare",
    "matinee.evaluation.evaluate": "cross_validate evaluate fit_and_evaluate",
    "matinee.models.registry": "available_models model_class",
    "matinee.recommend": "find_movies recommend recommend_new_user similar_movies",
    "matinee.settings": "Settings",
    "matinee.service": "ListFilters ModelBundle",
    "matinee.store.files": "load_model save_model",
    "matinee.training.loop": "FitOptions",
}
"""Module -> the public names it defines (space-separated), as ``matinee.models`` lists its
families' exports."""

_LAZY: dict[str, str] = {
    name: module for module, names in _EXPORTS.items() for name in names.split()
}
"""Public name -> the module that defines it."""

__all__ = [
    "ChecksumError",
    "ConfigError",
    "DataError",
    "Dataset",
    "DownloadError",
    "FitOptions",
    "IdMap",
    "ListFilters",
    "MalformedFileError",
    "MatineeError",
    "MinMovieMean",
    "MinMovieRatings",
    "MinUserRatings",
    "ModelBundle",
    "ModelFitError",
    "ModelFormatError",
    "NotFittedError",
    "RatingThreshold",
    "Ratings",
    "Settings",
    "Split",
    "SplitError",
    "TopUsers",
    "UnknownIdError",
    "UnknownReleaseError",
    "__version__",
    "apply_filters",
    "available_models",
    "canonical_folds",
    "canonical_split",
    "compare",
    "cross_validate",
    "evaluate",
    "filter_dataset",
    "find_movies",
    "fit_and_evaluate",
    "generate_ratings",
    "hidden_ratings",
    "kfold",
    "load_dataset",
    "load_model",
    "model_class",
    "per_user_holdout",
    "random_split",
    "read_local",
    "recommend",
    "recommend_new_user",
    "save_model",
    "similar_movies",
    "split_from_spec",
    "temporal_split",
    "user_split",
    "write_synthetic_release",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'matinee' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy public ones included."""
    return sorted({*globals(), *__all__})


class _Package(_ModuleType):
    """This package's module type: a public name keeps its meaning when a namesake loads.

    ``matinee.recommend`` is the function, as it was when the names were imported eagerly; the
    import system would otherwise bind the sub-package :mod:`matinee.recommend` to that name
    as soon as anything imports it.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, _ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
