"""The HTTP API and web page: ``matinee serve`` and :func:`create_app`.

Needs the ``serve`` extra (FastAPI, uvicorn)::

    from matinee.serve import create_app
    app = create_app([Path("models/ease")])
"""

from __future__ import annotations

from matinee.serve.app import create_app
from matinee.serve.limits import ServeLimits
from matinee.serve.registry import ModelRegistry, ReloadOutcome

__all__ = ["ModelRegistry", "ReloadOutcome", "ServeLimits", "create_app"]
