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

from matinee.models._lazy import lazy_package

if TYPE_CHECKING:
    from matinee.models.base import Recommender as Recommender
    from matinee.models.baselines import BiasBaseline as BiasBaseline
    from matinee.models.baselines import BiasBaselineConfig as BiasBaselineConfig
    from matinee.models.baselines import GlobalMean as GlobalMean
    from matinee.models.baselines import GlobalMeanConfig as GlobalMeanConfig
    from matinee.models.baselines import MostPopular as MostPopular
    from matinee.models.baselines import PopularConfig as PopularConfig
    from matinee.models.config import Config as Config
    from matinee.models.config import EpochConfig as EpochConfig
    from matinee.models.factorization import BayesianMF as BayesianMF
    from matinee.models.factorization import BayesianMFConfig as BayesianMFConfig
    from matinee.models.factorization import BiasedMF as BiasedMF
    from matinee.models.factorization import BiasedMFConfig as BiasedMFConfig
    from matinee.models.factorization import DotProductMF as DotProductMF
    from matinee.models.factorization import DotProductMFConfig as DotProductMFConfig
    from matinee.models.factorization import ImplicitALS as ImplicitALS
    from matinee.models.factorization import ImplicitALSConfig as ImplicitALSConfig
    from matinee.models.factorization import MaskedNMF as MaskedNMF
    from matinee.models.factorization import MaskedNMFConfig as MaskedNMFConfig
    from matinee.models.factorization import MatrixNMF as MatrixNMF
    from matinee.models.factorization import MatrixNMFConfig as MatrixNMFConfig
    from matinee.models.factorization import SVDpp as SVDpp
    from matinee.models.factorization import SVDppConfig as SVDppConfig
    from matinee.models.neighbours import EASE as EASE
    from matinee.models.neighbours import EASEConfig as EASEConfig
    from matinee.models.neighbours import ItemKNN as ItemKNN
    from matinee.models.neighbours import ItemKNNConfig as ItemKNNConfig
    from matinee.models.neighbours import RP3Beta as RP3Beta
    from matinee.models.neighbours import RP3BetaConfig as RP3BetaConfig
    from matinee.models.neural import AutoRec as AutoRec
    from matinee.models.neural import AutoRecConfig as AutoRecConfig
    from matinee.models.neural import EmbeddingNet as EmbeddingNet
    from matinee.models.neural import EmbeddingNetConfig as EmbeddingNetConfig
    from matinee.models.neural import MovieAutoencoder as MovieAutoencoder
    from matinee.models.neural import MovieAutoencoderConfig as MovieAutoencoderConfig
    from matinee.models.registry import available_models as available_models
    from matinee.models.registry import model_class as model_class
    from matinee.models.side_info import MovieFeatures as MovieFeatures

__getattr__, __dir__, __all__ = lazy_package(__name__, globals())
