"""Simple models every other one must beat: the global mean, user and movie biases, popularity.

Names are imported on first use (PEP 562), so importing this package loads no model code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matinee.models._lazy import lazy_package

if TYPE_CHECKING:
    from matinee.models.baselines.baseline import BiasBaseline as BiasBaseline
    from matinee.models.baselines.baseline import BiasBaselineConfig as BiasBaselineConfig
    from matinee.models.baselines.baseline import GlobalMean as GlobalMean
    from matinee.models.baselines.baseline import GlobalMeanConfig as GlobalMeanConfig
    from matinee.models.baselines.popular import MostPopular as MostPopular
    from matinee.models.baselines.popular import PopularConfig as PopularConfig

__getattr__, __dir__, __all__ = lazy_package(__name__, globals())
