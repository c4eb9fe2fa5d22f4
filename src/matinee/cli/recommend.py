"""``matinee recommend`` and ``matinee similar``: top-k lists from a saved model, as tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.table import Table

from matinee.cli.app import app, console, err_console, fail, print_json
from matinee.data.dataset import Dataset
from matinee.errors import ConfigError, DataError, MatineeError
from matinee.models.base import Recommender
from matinee.recommend import (
    MovieFilter,
    find_movies,
    parse_year_range,
    recommend,
    recommend_new_user,
    similar_movies,
)
from matinee.settings import Settings

__all__ = ["parse_rated", "read_rated_file", "recommend_command", "similar_command"]

ModelDir = Annotated[Path, typer.Argument(help="Folder of a model saved by matinee.")]
TopK = Annotated[int, typer.Option("-k", "--top-k", help="How many movies to list.")]
MinRatings = Annotated[
    int, typer.Option("--min-ratings", help="Keep movies rated at least this often.")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
DatasetOption = Annotated[
    str | None,
    typer.Option(
        "--dataset",
        help="Release for titles, genres and what a user rated; default: the model's own.",
    ),
]


def parse_rated(text: str) -> dict[int, float]:
    """Read ``"1:5,48:4.5"`` as ``{1: 5.0, 48: 4.5}``; a bad piece raises :class:`ConfigError`."""
    rated: dict[int, float] = {}
    for piece in (part.strip() for part in text.split(",")):
        if not piece:
            continue
        movie_text, colon, rating_text = piece.partition(":")
        try:
            if not colon:
                raise ValueError(piece)
            movie_id, rating = int(movie_text), float(rating_text)
        except ValueError:
            raise ConfigError(
                f"--rated: cannot read {piece!r}; write movie_id:rating pairs like 1:5,48:4.5"
            ) from None
        if movie_id in rated:
            raise ConfigError(f"--rated: movie {movie_id} is rated twice")
        rated[movie_id] = rating
    if not rated:
        raise ConfigError("--rated holds no movie_id:rating pair")
    return rated


def read_rated_file(path: Path) -> dict[int, float]:
    """Read ``{"1": 5, "48": 4.5}`` or ``[{"movie_id": 1, "rating": 5}, ...]`` from JSON."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise DataError(f"{path} is not valid JSON ({error.msg}, line {error.lineno})") from None
    pairs: list[tuple[Any, Any]]
    if isinstance(data, dict):
        pairs = list(data.items())
    elif isinstance(data, list) and all(isinstance(row, dict) for row in data):
        pairs = [(row.get("movie_id"), row.get("rating")) for row in data]
    else:
        raise DataError(f"{path}: expected an object of movie_id -> rating or a list of rows")
    try:
        return {int(movie): float(rating) for movie, rating in pairs}
    except (TypeError, ValueError):
        raise DataError(
            f"{path}: every movie id must be an integer and every rating a number"
        ) from None


@app.command("recommend")
def recommend_command(
    model_dir: ModelDir,
    user: Annotated[int | None, typer.Option("--user", help="A user id the model knows.")] = None,
    rated: Annotated[
        str | None, typer.Option("--rated", help='A new user\'s ratings: "1:5,48:5,594:5".')
    ] = None,
    rated_file: Annotated[
        Path | None, typer.Option("--rated-file", help="A new user's ratings as JSON.")
    ] = None,
    k: TopK = 10,
    genre: Annotated[
        list[str] | None, typer.Option("--genre", help="Keep these genres (repeatable).")
    ] = None,
    years: Annotated[str | None, typer.Option("--years", help="Years, e.g. 1990-2000.")] = None,
    min_ratings: MinRatings = 0,
    dataset: DatasetOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Top-k movies for a known user (--user) or for someone new (--rated / --rated-file)."""
    try:
        lists = _recommend(
            model_dir, user, rated, rated_file, k, genre, years, min_ratings, dataset
        )
    except MatineeError as error:
        raise fail(error) from None
    _show(lists, "score", as_json, title=f"Top {k} for " + (f"user {user}" if user else "you"))


@app.command("similar")
def similar_command(
    model_dir: ModelDir,
    movie: Annotated[str, typer.Option("--movie", help='A title, e.g. "Toy Story (1995)".')],
    k: TopK = 10,
    min_ratings: MinRatings = 0,
    dataset: DatasetOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The movies a saved model finds most like one movie, found by its title."""
    try:
        model, movies, loaded = _load(model_dir, dataset, need_ratings=min_ratings > 0)
        movie_id = _pick_movie(movies, movie)
        found = similar_movies(
            model,
            movie_id,
            k,
            movie_filter=MovieFilter(min_ratings=min_ratings),
            movies=movies,
            rating_counts=loaded.ratings if loaded is not None else None,
        )
    except MatineeError as error:
        raise fail(error) from None
    title = _title_of(movies, movie_id)
    _show(found, "similarity", as_json, title=f"Movies like {title}")


def _recommend(
    model_dir: Path,
    user: int | None,
    rated: str | None,
    rated_file: Path | None,
    k: int,
    genres: list[str] | None,
    years: str | None,
    min_ratings: int,
    dataset_name: str | None,
) -> pl.DataFrame:
    given = [
        name
        for name, value in (("--user", user), ("--rated", rated), ("--rated-file", rated_file))
        if value is not None
    ]
    if len(given) != 1:
        raise ConfigError("give exactly one of --user, --rated and --rated-file")
    movie_filter = MovieFilter(
        genres=tuple(genres or ()),
        years=parse_year_range(years) if years else (None, None),
        min_ratings=min_ratings,
    )
    model, movies, dataset = _load(
        model_dir, dataset_name, need_ratings=user is not None or min_ratings > 0
    )
    counts = dataset.ratings if dataset is not None else None
    if user is not None:
        return recommend(
            model,
            [user],
            k,
            exclude_rated=counts,
            movie_filter=movie_filter,
            movies=movies,
            rating_counts=counts,
        ).drop("user_id")
    new_ratings = parse_rated(rated) if rated is not None else _rated_from_file(rated_file)
    return recommend_new_user(
        model, new_ratings, k, movie_filter=movie_filter, movies=movies, rating_counts=counts
    )


def _rated_from_file(path: Path | None) -> dict[int, float]:
    if path is None:
        raise ConfigError("give exactly one of --user, --rated and --rated-file")
    return read_rated_file(path)


def _load(
    model_dir: Path, dataset_name: str | None, *, need_ratings: bool
) -> tuple[Recommender[Any], pl.DataFrame | None, Dataset | None]:
    """The model, a movies table (saved with it, else the dataset's) and the dataset if needed."""
    from matinee.data.loader import load_dataset
    from matinee.store.files import load_model, read_manifest, read_movies

    model = load_model(model_dir)
    movies = read_movies(model_dir)
    name = dataset_name or read_manifest(model_dir).extra.get("dataset")
    dataset = None
    if isinstance(name, str) and (need_ratings or movies is None):
        dataset = load_dataset(name, settings=Settings.from_env(show_progress=False))
        movies = movies if movies is not None else dataset.movies
    if need_ratings and dataset is None:
        raise ConfigError(
            "this needs the ratings the model was trained on; name the release with --dataset"
        )
    return model, movies, dataset


def _pick_movie(movies: pl.DataFrame | None, text: str) -> int:
    """The one movie a title names; several equally good matches are listed and refused."""
    if movies is None:
        if text.strip().isdigit():
            return int(text)
        raise ConfigError("no movies table to search titles in; name the release with --dataset")
    found = find_movies(movies, text, limit=20)
    if found.height == 0:
        if text.strip().isdigit():
            return int(text)
        raise ConfigError(f"no movie title matches {text!r}")
    exact = found.filter(pl.col("match") == "exact")
    if found.height == 1 or exact.height == 1:
        return int((exact if exact.height == 1 else found)["movie_id"][0])
    _candidates_table(exact if exact.height else found)
    raise ConfigError(f'{text!r} matches several movies; add the year, e.g. "Title (1995)"')


def _candidates_table(found: pl.DataFrame) -> None:
    table = Table(title="Matching movies")
    for column in ("movie_id", "title", "genres"):
        table.add_column(column)
    for row in found.iter_rows(named=True):
        table.add_row(str(row["movie_id"]), row["title"] or "", ", ".join(row["genres"] or []))
    err_console.print(table)


def _title_of(movies: pl.DataFrame | None, movie_id: int) -> str:
    if movies is None:
        return f"movie {movie_id}"
    match = movies.filter(pl.col("movie_id") == movie_id)
    return str(match["title"][0]) if match.height else f"movie {movie_id}"


def _show(frame: pl.DataFrame, value: str, as_json: bool, *, title: str) -> None:
    if as_json:
        print_json(frame.to_dicts())
        return
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("movie_id", justify="right")
    has_info = "title" in frame.columns
    if has_info:
        table.add_column("title")
        table.add_column("genres")
    table.add_column(value, justify="right")
    for row in frame.iter_rows(named=True):
        cells = [str(row["rank"]), str(row["movie_id"])]
        if has_info:
            cells += [row["title"] or "?", ", ".join(row["genres"] or [])]
        table.add_row(*cells, f"{row[value]:.4f}")
    console.print(table)
