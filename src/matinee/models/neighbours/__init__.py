"""Item-item models: EASE, item-kNN and RP3beta.

Names are imported on first use (PEP 562), so importing this package loads no model code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matinee.models._lazy import lazy_exports

if TYPE_CHECKING:
    from matinee.models.neighbours.ease import EASE, EASEConfig
    from matinee.models.neighbours.knn import ItemKNN, ItemKNNConfig
    from matinee.models.neighbours.rp3beta import RP3Beta, RP3BetaConfig

_WHERE = {
    "EASE": "ease",
    "EASEConfig": "ease",
    "ItemKNN": "knn",
    "ItemKNNConfig": "knn",
    "RP3Beta": "rp3beta",
    "RP3BetaConfig": "rp3beta",
}

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

__all__ = [
    "EASE",
    "EASEConfig",
    "ItemKNN",
    "ItemKNNConfig",
    "RP3Beta",
    "RP3BetaConfig",
]
