"""Simple models every other one must beat: the global mean, user and movie biases, popularity.

Names are imported on first use (PEP 562), so importing this package loads no model code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matinee.models._lazy import lazy_exports

if TYPE_CHECKING:
    from matinee.models.baselines.baseline import (
        BiasBaseline,
        BiasBaselineConfig,
        GlobalMean,
        GlobalMeanConfig,
    )
    from matinee.models.baselines.popular import MostPopular, PopularConfig

_WHERE = {
    "BiasBaseline": "baseline",
    "BiasBaselineConfig": "baseline",
    "GlobalMean": "baseline",
    "GlobalMeanConfig": "baseline",
    "MostPopular": "popular",
    "PopularConfig": "popular",
}

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

__all__ = [
    "BiasBaseline",
    "BiasBaselineConfig",
    "GlobalMean",
    "GlobalMeanConfig",
    "MostPopular",
    "PopularConfig",
]
