"""The HTTP API and web page: ``matinee serve`` and :func:`create_app`.

Needs the ``serve`` extra (FastAPI, uvicorn)::

    from matinee.serve import create_app
    app = create_app([Path("models/ease")])

Names are imported on first use (PEP 562), so ``matinee.serve.limits`` (what ``matinee serve
--help`` reads its defaults from) loads without FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matinee.models._lazy import lazy_exports

if TYPE_CHECKING:
    from matinee.serve.app import create_app as create_app
    from matinee.serve.limits import ServeLimits as ServeLimits
    from matinee.serve.registry import ModelRegistry as ModelRegistry
    from matinee.serve.registry import ReloadOutcome as ReloadOutcome

_WHERE = {
    "create_app": "app",
    "ServeLimits": "limits",
    "ModelRegistry": "registry",
    "ReloadOutcome": "registry",
}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals(), extra="serve")
