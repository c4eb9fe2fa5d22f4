"""``matinee data ...``: list, fetch and describe MovieLens releases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from matinee.cli._options import JsonFlag
from matinee.cli.app import app, console, fail, print_json
from matinee.errors import MatineeError
from matinee.settings import Settings

if TYPE_CHECKING:
    from matinee.data.dataset import Dataset

data_app = typer.Typer(help="MovieLens releases: list, fetch, describe.", no_args_is_help=True)
app.add_typer(data_app, name="data")

NameArgument = Annotated[str, typer.Argument(help="Release name, as in `matinee data list`.")]

HISTOGRAM_WIDTH = 40
"""Characters of the longest bar in the rating histogram."""

TOP_GENRES = 10
"""Genres shown by ``info``."""


def _count(value: int | None) -> str:
    return f"{value:,}" if value is not None else "-"


def _megabytes(size: int | None) -> str:
    return f"{size / 1e6:,.1f}" if size is not None else "-"


@data_app.command("list")
def list_releases(json_output: JsonFlag = False) -> None:
    """List the known releases, and whether each is mirrored and cached here."""
    from matinee.data.loader import release_status
    from matinee.data.releases import RELEASES

    settings = Settings.from_env(show_progress=False)
    rows: list[dict[str, Any]] = []
    for name in RELEASES:
        status = release_status(name, settings=settings)
        release = status.release
        rows.append(
            {
                "name": name,
                "ratings": release.n_ratings,
                "users": release.n_users,
                "movies": release.n_movies,
                "zip_size": release.zip_size,
                "cached": status.cached,
                "downloaded": status.downloaded is not None,
                "mirrored": str(status.mirrored) if status.mirrored else None,
                "served_by_grouplens": release.served_by_grouplens,
                "description": release.description,
            }
        )
    if json_output:
        print_json(rows)
        return
    table = Table(title="MovieLens releases (MB: zip size)", show_edge=False)
    table.add_column("name", no_wrap=True)
    cells = [
        [
            _count(row["ratings"]),
            _count(row["users"]),
            _count(row["movies"]),
            _megabytes(row["zip_size"]),
            "yes" if row["cached"] else "no",
            "yes" if row["mirrored"] else "no",
        ]
        for row in rows
    ]
    headers = ("ratings", "users", "movies", "MB", "cached", "mirror")
    for i, header in enumerate(headers):
        widest = max((len(line[i]) for line in cells), default=0)
        width = max(widest, len(header))
        table.add_column(header, justify="right", no_wrap=True, min_width=width)
    for row, line in zip(rows, cells, strict=True):
        table.add_row(row["name"], *line)
    console.print(table)


@data_app.command("fetch")
def fetch_release(name: NameArgument, json_output: JsonFlag = False) -> None:
    """Download (or find in the mirror) a release and parse it into the cache."""
    from matinee.data.loader import load_dataset, release_path

    settings = Settings.from_env(show_progress=not json_output)
    try:
        path = release_path(name, settings=settings)
        dataset = load_dataset(name, settings=settings)
    except MatineeError as error:
        raise fail(error) from None
    summary = {"name": name, "path": str(path), **_counts(dataset)}
    if json_output:
        print_json(summary)
        return
    console.print(
        f"{name}: {summary['ratings']:,} ratings, {summary['users']:,} users, "
        f"{summary['movies']:,} movies, from {path}",
        highlight=False,
    )


@data_app.command("info")
def describe_release(name: NameArgument, json_output: JsonFlag = False) -> None:
    """Counts, sparsity, a rating histogram and the most rated genres of a release."""
    from matinee.data.loader import load_dataset

    settings = Settings.from_env(show_progress=not json_output)
    try:
        dataset = load_dataset(name, settings=settings)
    except MatineeError as error:
        raise fail(error) from None
    info: dict[str, Any] = {
        "name": name,
        **_counts(dataset),
        "histogram": _histogram(dataset),
        "top_genres": _top_genres(dataset),
    }
    if json_output:
        print_json(info)
        return
    _print_info(info)


def _counts(dataset: Dataset) -> dict[str, Any]:
    ratings = dataset.ratings
    return {
        "ratings": len(ratings),
        "users": ratings.n_users,
        "movies": ratings.n_movies,
        "listed_movies": dataset.movies.height,
        "sparsity": 1.0 - ratings.density,
        "mean_rating": ratings.mean(),
        "rating_scale": list(ratings.rating_scale),
    }


def _histogram(dataset: Dataset) -> dict[str, int]:
    """Ratings per distinct value, lowest first (keys as text for JSON)."""
    import numpy as np

    values, counts = np.unique(dataset.ratings.rating, return_counts=True)
    return {f"{value:g}": int(count) for value, count in zip(values, counts, strict=True)}


def _top_genres(dataset: Dataset) -> dict[str, int]:
    """Ratings per genre (a movie's ratings count for each of its genres), most rated first."""
    import numpy as np
    import polars as pl

    ratings = dataset.ratings
    per_movie = pl.DataFrame(
        {"movie_id": ratings.movies.raw_ids, "n": ratings.movie_counts().astype(np.int64)}
    )
    genres = (
        dataset.movies.select("movie_id", "genres")
        .join(per_movie, on="movie_id", how="inner")
        .explode("genres")
        .drop_nulls("genres")
        .group_by("genres")
        .agg(pl.col("n").sum())
        .sort(["n", "genres"], descending=[True, False])
        .head(TOP_GENRES)
    )
    return dict(zip(genres["genres"].to_list(), genres["n"].to_list(), strict=True))


def _bar_table(title: str, counts: dict[str, int], label: str) -> Table:
    table = Table(title=title, show_edge=False)
    table.add_column(label, justify="right")
    table.add_column("count", justify="right")
    table.add_column("")
    top = max(counts.values(), default=1)
    for key, count in counts.items():
        table.add_row(key, f"{count:,}", "█" * max(1, round(HISTOGRAM_WIDTH * count / top)))
    return table


def _print_info(info: dict[str, Any]) -> None:
    low, high = info["rating_scale"]
    console.print(
        f"[bold]{info['name']}[/]: {info['ratings']:,} ratings by {info['users']:,} users on "
        f"{info['movies']:,} movies ({info['listed_movies']:,} listed)\n"
        f"sparsity {info['sparsity']:.4%}, mean rating {info['mean_rating']:.3f} "
        f"on a {low:g}-{high:g} scale",
        highlight=False,
    )
    console.print(_bar_table("Ratings by value", info["histogram"], "rating"))
    console.print(_bar_table("Most rated genres", info["top_genres"], "genre"))
