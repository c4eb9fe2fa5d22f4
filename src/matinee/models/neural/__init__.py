"""Neural models on PyTorch (the ``neural`` extra): embedding net, AutoRec, movie autoencoder.

Names are imported on first use (PEP 562), so importing this package loads no model code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matinee.models._lazy import lazy_package

if TYPE_CHECKING:
    from matinee.models.neural.autorec import AutoRec as AutoRec
    from matinee.models.neural.autorec import AutoRecConfig as AutoRecConfig
    from matinee.models.neural.embedding_net import EmbeddingNet as EmbeddingNet
    from matinee.models.neural.embedding_net import EmbeddingNetConfig as EmbeddingNetConfig
    from matinee.models.neural.movie_autoencoder import MovieAutoencoder as MovieAutoencoder
    from matinee.models.neural.movie_autoencoder import (
        MovieAutoencoderConfig as MovieAutoencoderConfig,
    )

__getattr__, __dir__, __all__ = lazy_package(__name__, globals())
