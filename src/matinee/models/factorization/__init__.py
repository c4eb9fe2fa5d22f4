"""Matrix factorization: dot-product, biased and Bayesian MF, SVD++, NMF and implicit ALS.

Names are imported on first use (PEP 562), so importing this package loads no model code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matinee.models._lazy import lazy_package

if TYPE_CHECKING:
    from matinee.models.factorization.bayes_mf import BayesianMF as BayesianMF
    from matinee.models.factorization.bayes_mf import BayesianMFConfig as BayesianMFConfig
    from matinee.models.factorization.ials import ImplicitALS as ImplicitALS
    from matinee.models.factorization.ials import ImplicitALSConfig as ImplicitALSConfig
    from matinee.models.factorization.mf import BiasedMF as BiasedMF
    from matinee.models.factorization.mf import BiasedMFConfig as BiasedMFConfig
    from matinee.models.factorization.mf import DotProductMF as DotProductMF
    from matinee.models.factorization.mf import DotProductMFConfig as DotProductMFConfig
    from matinee.models.factorization.nmf import MaskedNMF as MaskedNMF
    from matinee.models.factorization.nmf import MaskedNMFConfig as MaskedNMFConfig
    from matinee.models.factorization.nmf import MatrixNMF as MatrixNMF
    from matinee.models.factorization.nmf import MatrixNMFConfig as MatrixNMFConfig
    from matinee.models.factorization.svdpp import SVDpp as SVDpp
    from matinee.models.factorization.svdpp import SVDppConfig as SVDppConfig

__getattr__, __dir__, __all__ = lazy_package(__name__, globals())
