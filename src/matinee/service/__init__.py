"""The service layer: a saved model loaded once as a :class:`ModelBundle`, on raw MovieLens ids.

The CLI, the HTTP server and scripts all go through it::

    from matinee.service import ModelBundle, ListFilters

    bundle = ModelBundle.load("models/ease")
    bundle.search("star wars")
    bundle.recommend_new_user({"Toy Story": 5, "Aladdin (1992)": 4.5}, k=10)
    bundle.recommend_user(1, filters=ListFilters(genres=("Comedy",)))
    bundle.similar(1)
    bundle.predict(1, [1, 50])

No web framework, no command-line library and no printing here.
"""

from __future__ import annotations

from matinee.service.because import N_REASONS
from matinee.service.bundle import MAX_K, ModelBundle
from matinee.service.rated import UnknownMoviesError
from matinee.service.saved import RATED_NAME, save_bundle
from matinee.service.types import (
    AmbiguousTitleError,
    ListFilters,
    MovieInfo,
    Reason,
    Recommendation,
)

__all__ = [
    "MAX_K",
    "N_REASONS",
    "RATED_NAME",
    "AmbiguousTitleError",
    "ListFilters",
    "ModelBundle",
    "MovieInfo",
    "Reason",
    "Recommendation",
    "UnknownMoviesError",
    "save_bundle",
]
