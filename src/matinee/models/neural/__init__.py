"""Neural models on PyTorch (the ``neural`` extra): embedding net, AutoRec, movie autoencoder.

Names are imported on first use (PEP 562), so importing this package loads no model code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matinee.models._lazy import lazy_exports

if TYPE_CHECKING:
    from matinee.models.neural.autorec import AutoRec, AutoRecConfig
    from matinee.models.neural.embedding_net import EmbeddingNet, EmbeddingNetConfig
    from matinee.models.neural.movie_autoencoder import MovieAutoencoder, MovieAutoencoderConfig

_WHERE = {
    "EmbeddingNet": "embedding_net",
    "EmbeddingNetConfig": "embedding_net",
    "AutoRec": "autorec",
    "AutoRecConfig": "autorec",
    "MovieAutoencoder": "movie_autoencoder",
    "MovieAutoencoderConfig": "movie_autoencoder",
}

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals(), extra="neural")

__all__ = [
    "AutoRec",
    "AutoRecConfig",
    "EmbeddingNet",
    "EmbeddingNetConfig",
    "MovieAutoencoder",
    "MovieAutoencoderConfig",
]
