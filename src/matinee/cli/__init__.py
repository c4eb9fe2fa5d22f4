"""The matinee command line: thin shells over library calls.

Each command module registers its commands on :data:`matinee.cli.app.app` when imported; the root
group imports a module only when one of its commands runs (see :data:`matinee.cli.app.COMMANDS`),
so ``matinee --help`` and ``matinee --version`` load no numpy, polars or model code.
"""

from __future__ import annotations

import logging
import os

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError

from matinee.cli.app import app, fail, usage_failure
from matinee.errors import MatineeError
from matinee.logs import configure_logging

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``matinee`` console script."""
    configure_logging(os.environ.get("MATINEE_LOG_LEVEL", logging.WARNING))
    try:
        code = app(standalone_mode=False)
    except MatineeError as error:
        raise SystemExit(fail(error).exit_code) from None
    except NoArgsIsHelpError as usage:
        usage.show()
        raise SystemExit(usage.exit_code) from None
    except UsageError as usage:
        raise SystemExit(usage_failure(usage)) from None
    except typer.Abort:
        raise SystemExit(130) from None
    raise SystemExit(code if isinstance(code, int) else 0)
