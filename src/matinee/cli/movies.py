"""``matinee movies search TEXT``: find movies by title in a saved model or a release."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from matinee.cli._options import TableJsonFlag
from matinee.cli.app import app, console, fail, print_json
from matinee.errors import ConfigError, MatineeError
from matinee.service import ModelBundle, MovieInfo
from matinee.service.catalog import MovieCatalog
from matinee.settings import Settings

__all__ = ["movies_app", "search_command"]

movies_app = typer.Typer(help="Find movies by title.", no_args_is_help=True)
app.add_typer(movies_app, name="movies")


@movies_app.command("search")
def search_command(
    text: Annotated[
        str, typer.Argument(help='Title or part of it, e.g. "star wars" or "Heat (1995)".')
    ],
    model: Annotated[
        Path | None,
        typer.Option(
            "--model", help="Search the movies of this saved model (its training counts)."
        ),
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", help="Search the movies of this release; default ml-100k."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many movies to list.")] = 10,
    as_json: TableJsonFlag = False,
) -> None:
    """Movies whose title matches TEXT, best first: exact, prefix, words, substring, typos."""
    try:
        found = _search(text, model, dataset, limit)
    except MatineeError as error:
        raise fail(error) from None
    if as_json:
        print_json([movie.to_dict() for movie in found])
        return
    table = Table(title=f"Movies matching {text!r}")
    for column, justify in (
        ("movie_id", "right"),
        ("title", "left"),
        ("year", "right"),
        ("genres", "left"),
        ("ratings", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for movie in found:
        year = "" if movie.year is None else str(movie.year)
        table.add_row(
            str(movie.movie_id), movie.title, year, ", ".join(movie.genres), str(movie.n_ratings)
        )
    console.print(table)


def _search(text: str, model: Path | None, dataset: str | None, limit: int) -> list[MovieInfo]:
    settings = Settings.from_env(show_progress=False)
    if model is not None and dataset is not None:
        raise ConfigError("give --model or --dataset, not both")
    if model is not None:
        return ModelBundle.load(model, settings=settings).search(text, limit=limit)
    from matinee.data.loader import load_dataset

    loaded = load_dataset(dataset or "ml-100k", settings=settings)
    catalog = MovieCatalog.from_movies(loaded.movies, loaded.ratings)
    return [catalog.infos[match.index] for match in catalog.search(text, limit=limit)]
