"""The matinee command line: thin shells over library calls.

Each command module registers its commands on :data:`matinee.cli.app.app` when imported.
"""

from __future__ import annotations

import logging
import os

from matinee.cli import catalog as _catalog  # noqa: F401  (registers commands)
from matinee.cli import data as _data  # noqa: F401
from matinee.cli import explain as _explain  # noqa: F401
from matinee.cli import models as _models  # noqa: F401
from matinee.cli import recommend as _recommend  # noqa: F401
from matinee.cli import serve as _serve  # noqa: F401
from matinee.cli.app import app, fail
from matinee.errors import MatineeError
from matinee.logs import configure_logging

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``matinee`` console script."""
    configure_logging(os.environ.get("MATINEE_LOG_LEVEL", logging.WARNING))
    try:
        app()
    except MatineeError as error:
        raise SystemExit(fail(error).exit_code) from None
