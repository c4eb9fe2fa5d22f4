"""Registry: model names -> classes, imported lazily so optional extras stay optional."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from matinee.errors import ConfigError, MatineeError

if TYPE_CHECKING:
    from matinee.models.base import Recommender

__all__ = ["MODELS", "SUMMARIES", "available_models", "model_class"]

MODELS: dict[str, tuple[str, str | None]] = {
    "global-mean": ("matinee.models.baselines.baseline:GlobalMean", None),
    "baseline": ("matinee.models.baselines.baseline:BiasBaseline", None),
    "mf": ("matinee.models.factorization.mf:DotProductMF", None),
    "biased-mf": ("matinee.models.factorization.mf:BiasedMF", None),
    "svdpp": ("matinee.models.factorization.svdpp:SVDpp", None),
    "bayes-mf": ("matinee.models.factorization.bayes_mf:BayesianMF", None),
    "nmf": ("matinee.models.factorization.nmf:MaskedNMF", None),
    "nmf-matrix": ("matinee.models.factorization.nmf:MatrixNMF", None),
    "ease": ("matinee.models.neighbours.ease:EASE", None),
    "ials": ("matinee.models.factorization.ials:ImplicitALS", None),
    "item-knn": ("matinee.models.neighbours.knn:ItemKNN", None),
    "rp3beta": ("matinee.models.neighbours.rp3beta:RP3Beta", None),
    "popular": ("matinee.models.baselines.popular:MostPopular", None),
    "blend": ("matinee.models.blend:Blend", "neural"),
    "embedding-net": ("matinee.models.neural.embedding_net:EmbeddingNet", "neural"),
    "autorec": ("matinee.models.neural.autorec:AutoRec", "neural"),
    "movie-autoencoder": ("matinee.models.neural.movie_autoencoder:MovieAutoencoder", "neural"),
}
"""Name -> ("module:Class", extra needed or None). Pure data: nothing is imported here."""

SUMMARIES: dict[str, str] = {
    "global-mean": "Predicts the mean training rating for every pair: ``r = mu``.",
    "baseline": "User and movie biases around the global mean: ``r = mu + b_u + b_i``.",
    "mf": "Plain matrix factorization, the notebooks' first model: ``r = p_u . q_i``.",
    "biased-mf": "Biased matrix factorization (Funk SVD): ``r = mu + b_u + b_i + p_u . q_i``.",
    "svdpp": "SVD++: ``r = mu + b_u + b_i + q_i . (p_u + |N(u)|^-1/2 sum_{j in N(u)} y_j)``.",
    "bayes-mf": (
        "Bayesian MF by Gibbs sampling: the posterior mean of ``mu + b_u + b_i + p_u . q_i``."
    ),
    "nmf": (
        "NMF of the observed ratings: ``r = mu + b_u + b_i + p_u . q_i`` with ``p_u, q_i >= 0``."
    ),
    "nmf-matrix": (
        "The notebooks' NMF: factor the zero-filled ratings matrix, ``R ~ W H`` with ``W, H >= 0``."
    ),
    "ease": "Closed-form item-item ranker; its scores order movies and are not ratings.",
    "ials": "Implicit-feedback ALS; ``movie_vectors`` gives the movie factors for similar movies.",
    "item-knn": (
        "Item-based nearest neighbours; fold-in of a new user goes through the same weights."
    ),
    "rp3beta": (
        "Graph random-walk ranker; a new user folds in through the same movie-movie weights."
    ),
    "popular": (
        "Scores each movie by its share of users with a positive interaction; same list for all."
    ),
    "blend": "A stacked blend of rating models, weighted by ridge regression on held-out ratings.",
    "embedding-net": (
        "A neural net on concatenated user and movie embeddings, trained on the squared error."
    ),
    "autorec": (
        "Item- or user-based AutoRec with sparse input and a loss masked to observed ratings."
    ),
    "movie-autoencoder": (
        "A dense autoencoder over movies' zero-filled rating rows; its codes are movie vectors."
    ),
}
"""Name -> the first line of the model's docstring, so that listing models imports none of them
(a test keeps the two equal)."""


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
