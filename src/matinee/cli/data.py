"""``matinee data ...``: list, fetch and describe MovieLens releases."""

from __future__ import annotations

import typer

from matinee.cli.app import app

data_app = typer.Typer(help="MovieLens releases: list, fetch, describe.", no_args_is_help=True)
app.add_typer(data_app, name="data")
