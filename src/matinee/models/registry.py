"""Registry: model names -> classes, imported lazily so optional extras stay optional."""

from __future__ import annotations

import importlib
from typing import Any

from matinee.errors import ConfigError, MatineeError
from matinee.models.base import Recommender

__all__ = ["MODELS", "available_models", "model_class"]

MODELS: dict[str, tuple[str, str | None]] = {
    "global-mean": ("matinee.models.baselines.baseline:GlobalMean", None),
    "baseline": ("matinee.models.baselines.baseline:BiasBaseline", None),
    "mf": ("matinee.models.factorization.mf:DotProductMF", None),
    "biased-mf": ("matinee.models.factorization.mf:BiasedMF", None),
    "svdpp": ("matinee.models.factorization.svdpp:SVDpp", None),
    "nmf": ("matinee.models.factorization.nmf:MaskedNMF", None),
    "nmf-matrix": ("matinee.models.factorization.nmf:MatrixNMF", None),
    "ease": ("matinee.models.neighbours.ease:EASE", None),
    "ials": ("matinee.models.factorization.ials:ImplicitALS", None),
    "item-knn": ("matinee.models.neighbours.knn:ItemKNN", None),
    "rp3beta": ("matinee.models.neighbours.rp3beta:RP3Beta", None),
    "popular": ("matinee.models.baselines.popular:MostPopular", None),
    "embedding-net": ("matinee.models.neural.embedding_net:EmbeddingNet", "neural"),
    "autorec": ("matinee.models.neural.autorec:AutoRec", "neural"),
    "movie-autoencoder": ("matinee.models.neural.movie_autoencoder:MovieAutoencoder", "neural"),
}
"""Name -> ("module:Class", extra needed or None). Pure data: nothing is imported here."""


def available_models() -> list[str]:
    """Every registered model name."""
    return sorted(MODELS)


def model_class(name: str) -> type[Recommender[Any]]:
    """The class registered under ``name``; says which extra to install if it is missing."""
    try:
        target, extra = MODELS[name]
    except KeyError:
        raise ConfigError(
            f"unknown model {name!r}; available: {', '.join(available_models())}"
        ) from None
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if extra is None:
            raise
        raise MatineeError(
            f"model {name!r} needs the {extra!r} extra ({error.name} is missing): "
            f"pip install 'matinee[{extra}]'"
        ) from None
    cls: type[Recommender[Any]] = getattr(module, class_name)
    return cls
