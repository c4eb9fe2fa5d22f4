"""Matrix factorization: dot-product, biased and Bayesian MF, SVD++, NMF and implicit ALS.

Names are imported on first use (PEP 562), so importing this package loads no model code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matinee.models._lazy import lazy_exports

if TYPE_CHECKING:
    from matinee.models.factorization.bayes_mf import BayesianMF, BayesianMFConfig
    from matinee.models.factorization.ials import ImplicitALS, ImplicitALSConfig
    from matinee.models.factorization.mf import (
        BiasedMF,
        BiasedMFConfig,
        DotProductMF,
        DotProductMFConfig,
    )
    from matinee.models.factorization.nmf import (
        MaskedNMF,
        MaskedNMFConfig,
        MatrixNMF,
        MatrixNMFConfig,
    )
    from matinee.models.factorization.svdpp import SVDpp, SVDppConfig

_WHERE = {
    "BayesianMF": "bayes_mf",
    "BayesianMFConfig": "bayes_mf",
    "BiasedMF": "mf",
    "BiasedMFConfig": "mf",
    "DotProductMF": "mf",
    "DotProductMFConfig": "mf",
    "SVDpp": "svdpp",
    "SVDppConfig": "svdpp",
    "MaskedNMF": "nmf",
    "MaskedNMFConfig": "nmf",
    "MatrixNMF": "nmf",
    "MatrixNMFConfig": "nmf",
    "ImplicitALS": "ials",
    "ImplicitALSConfig": "ials",
}

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

__all__ = [
    "BayesianMF",
    "BayesianMFConfig",
    "BiasedMF",
    "BiasedMFConfig",
    "DotProductMF",
    "DotProductMFConfig",
    "ImplicitALS",
    "ImplicitALSConfig",
    "MaskedNMF",
    "MaskedNMFConfig",
    "MatrixNMF",
    "MatrixNMFConfig",
    "SVDpp",
    "SVDppConfig",
]
