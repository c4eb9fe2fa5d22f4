"""Recommender models behind one interface, grouped by family.

- :mod:`matinee.models.baselines`: global mean, bias baseline, most popular.
- :mod:`matinee.models.factorization`: dot-product and biased MF, SVD++, NMF, implicit ALS.
- :mod:`matinee.models.neighbours`: EASE, item-kNN, RP3beta.
- :mod:`matinee.models.neural`: embedding net, AutoRec, movie autoencoder (the ``neural`` extra).

Every class is re-exported here and imported on first use, so ``from matinee.models import
BiasedMF, EASE`` loads only those two modules and never torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matinee.models._lazy import lazy_exports

if TYPE_CHECKING:
    from matinee.models.base import Recommender
    from matinee.models.baselines import (
        BiasBaseline,
        BiasBaselineConfig,
        GlobalMean,
        GlobalMeanConfig,
        MostPopular,
        PopularConfig,
    )
    from matinee.models.config import Config, EpochConfig
    from matinee.models.factorization import (
        BiasedMF,
        BiasedMFConfig,
        DotProductMF,
        DotProductMFConfig,
        ImplicitALS,
        ImplicitALSConfig,
        MaskedNMF,
        MaskedNMFConfig,
        MatrixNMF,
        MatrixNMFConfig,
        SVDpp,
        SVDppConfig,
    )
    from matinee.models.neighbours import (
        EASE,
        EASEConfig,
        ItemKNN,
        ItemKNNConfig,
        RP3Beta,
        RP3BetaConfig,
    )
    from matinee.models.neural import (
        AutoRec,
        AutoRecConfig,
        EmbeddingNet,
        EmbeddingNetConfig,
        MovieAutoencoder,
        MovieAutoencoderConfig,
    )
    from matinee.models.registry import available_models, model_class

_FAMILIES = {
    "baselines": (
        "BiasBaseline BiasBaselineConfig GlobalMean GlobalMeanConfig MostPopular PopularConfig"
    ),
    "factorization": (
        "BiasedMF BiasedMFConfig DotProductMF DotProductMFConfig ImplicitALS ImplicitALSConfig "
        "MaskedNMF MaskedNMFConfig MatrixNMF MatrixNMFConfig SVDpp SVDppConfig"
    ),
    "neighbours": "EASE EASEConfig ItemKNN ItemKNNConfig RP3Beta RP3BetaConfig",
    "neural": (
        "AutoRec AutoRecConfig EmbeddingNet EmbeddingNetConfig MovieAutoencoder "
        "MovieAutoencoderConfig"
    ),
    "base": "Recommender",
    "config": "Config EpochConfig",
    "registry": "available_models model_class",
}
_WHERE = {name: module for module, names in _FAMILIES.items() for name in names.split()}

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

__all__ = [
    "AutoRec",
    "AutoRecConfig",
    "BiasBaseline",
    "BiasBaselineConfig",
    "BiasedMF",
    "BiasedMFConfig",
    "Config",
    "DotProductMF",
    "DotProductMFConfig",
    "EASE",
    "EASEConfig",
    "EmbeddingNet",
    "EmbeddingNetConfig",
    "EpochConfig",
    "GlobalMean",
    "GlobalMeanConfig",
    "ImplicitALS",
    "ImplicitALSConfig",
    "ItemKNN",
    "ItemKNNConfig",
    "MaskedNMF",
    "MaskedNMFConfig",
    "MatrixNMF",
    "MatrixNMFConfig",
    "MostPopular",
    "MovieAutoencoder",
    "MovieAutoencoderConfig",
    "PopularConfig",
    "RP3Beta",
    "RP3BetaConfig",
    "Recommender",
    "SVDpp",
    "SVDppConfig",
    "available_models",
    "model_class",
]
