"""Item-item models: EASE, item-kNN and RP3beta.

Names are imported on first use (PEP 562), so importing this package loads no model code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matinee.models._lazy import lazy_package

if TYPE_CHECKING:
    from matinee.models.neighbours.ease import EASE as EASE
    from matinee.models.neighbours.ease import EASEConfig as EASEConfig
    from matinee.models.neighbours.knn import ItemKNN as ItemKNN
    from matinee.models.neighbours.knn import ItemKNNConfig as ItemKNNConfig
    from matinee.models.neighbours.rp3beta import RP3Beta as RP3Beta
    from matinee.models.neighbours.rp3beta import RP3BetaConfig as RP3BetaConfig

__getattr__, __dir__, __all__ = lazy_package(__name__, globals())
