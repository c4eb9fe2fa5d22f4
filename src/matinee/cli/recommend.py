"""``matinee recommend`` and ``matinee similar``: thin shells over :class:`ModelBundle`.

Ratings are given by movie id or by title (``--rated "Toy Story:5, Aladdin (1992):4.5"``);
the bundle resolves them, filters the lists and explains them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from matinee.calibration import parse_strength
from matinee.cli._options import SavedModel, TableJsonFlag
from matinee.cli.app import app, console, err_console, fail, print_json
from matinee.errors import ConfigError, DataError, MatineeError
from matinee.recommend import parse_year_range
from matinee.service import AmbiguousTitleError, ListFilters, ModelBundle, Recommendation
from matinee.settings import Settings

__all__ = [
    "load_bundle",
    "parse_rated",
    "read_rated_file",
    "recommend_command",
    "show_candidates",
    "similar_command",
]

TopK = Annotated[int, typer.Option("-k", "--top-k", help="How many movies to list (1-1000).")]
MinRatings = Annotated[
    int, typer.Option("--min-ratings", help="Keep movies rated at least this often in training.")
]
DatasetOption = Annotated[
    str | None,
    typer.Option(
        "--dataset",
        help="Release for what the saved model lacks (titles, what a user rated); "
        "default: the model's own.",
    ),
]

_RATING_MARK = re.compile(r":\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?:,|$)")
"""``:<number>`` closing one ``movie:rating`` piece: what splits ``--rated`` text."""

RatedInput = dict[int | str, float]


def parse_rated(text: str) -> RatedInput:
    """Read ``"1:5, Toy Story:4.5"`` as ``{1: 5.0, "Toy Story": 4.5}``.

    A piece ends at a colon followed by a number and then a comma or the end, so titles may
    hold commas and colons (``"Star Wars: Episode IV - A New Hope (1977):5"``). Digits-only
    movies are ids, anything else a title.

    Raises:
        ConfigError: a piece without a numeric rating, a movie given twice, or no pair at all.
    """
    rated: RatedInput = {}
    position = 0
    for mark in _RATING_MARK.finditer(text):
        movie = text[position : mark.start()].strip().strip(",").strip()
        position = mark.end()
        if not movie:
            raise ConfigError(f"--rated: a rating ({mark.group(1)}) has no movie before it")
        key: int | str = int(movie) if movie.isdigit() else movie
        if key in rated:
            raise ConfigError(f"--rated: movie {movie!r} is rated twice")
        rated[key] = float(mark.group(1))
    rest = text[position:].strip().strip(",").strip()
    if rest:
        hint = " (the rating after ':' must be a number)" if ":" in rest else ""
        raise ConfigError(
            f"--rated: cannot read {rest!r}{hint}; write movie:rating pairs like "
            '"Toy Story:5, 48:4.5"'
        )
    if not rated:
        raise ConfigError("--rated holds no movie:rating pair")
    return rated


def read_rated_file(path: Path) -> RatedInput:
    """Read ratings from JSON: ``{"1": 5, "Toy Story": 4.5}`` or a list of rows.

    Rows are ``{"movie_id": 1, "rating": 5}`` or ``{"title": "Toy Story", "rating": 5}``.

    Raises:
        DataError: an unreadable file, bad JSON, or movies and ratings of the wrong kind.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        problem = (
            f"{error.msg}, line {error.lineno}"
            if isinstance(error, json.JSONDecodeError)
            else "not UTF-8"
        )
        raise DataError(f"{path} is not valid JSON ({problem})") from None
    pairs: list[tuple[Any, Any]]
    if isinstance(data, dict):
        pairs = list(data.items())
    elif isinstance(data, list) and all(isinstance(row, dict) for row in data):
        pairs = [(row.get("movie_id", row.get("title")), row.get("rating")) for row in data]
    else:
        raise DataError(
            f"{path}: expected an object of movie (id or title) -> rating, or a list of rows"
        )
    rated: RatedInput = {}
    for movie, rating in pairs:
        key, value = _file_pair(path, movie, rating)
        if key in rated:
            raise DataError(f"{path}: movie {key!r} is rated twice")
        rated[key] = value
    if not rated:
        raise DataError(f"{path} holds no ratings")
    return rated


def _file_pair(path: Path, movie: Any, rating: Any) -> tuple[int | str, float]:
    numeric = isinstance(rating, int | float) and not isinstance(rating, bool)
    if isinstance(movie, bool) or not isinstance(movie, int | str) or not numeric:
        raise DataError(
            f"{path}: every movie must be an integer id or a title and every rating a number "
            f"(got {movie!r}: {rating!r})"
        )
    if isinstance(movie, str):
        text = movie.strip()
        if not text:
            raise DataError(f"{path}: a movie title is empty")
        return (int(text) if text.isdigit() else text), float(rating)
    return movie, float(rating)


def load_bundle(model_dir: Path, dataset: str | None = None) -> ModelBundle:
    """Load a saved model for a command, reading any missing data from the environment's mirror."""
    return ModelBundle.load(
        model_dir, settings=Settings.from_env(show_progress=False), dataset=dataset
    )


@app.command("recommend")
def recommend_command(
    model_dir: SavedModel,
    user: Annotated[int | None, typer.Option("--user", help="A user id the model knows.")] = None,
    rated: Annotated[
        str | None,
        typer.Option(
            "--rated", help='A new user\'s ratings: "Toy Story:5, Aladdin (1992):4.5, 50:4".'
        ),
    ] = None,
    rated_file: Annotated[
        Path | None,
        typer.Option(
            "--rated-file",
            help="A new user's ratings as a JSON file: title or id to rating, or a list of rows.",
        ),
    ] = None,
    k: TopK = 10,
    genre: Annotated[
        list[str] | None, typer.Option("--genre", help="Keep these genres (repeatable).")
    ] = None,
    years: Annotated[str | None, typer.Option("--years", help="Years, e.g. 1990-2000.")] = None,
    min_ratings: MinRatings = 0,
    calibration: Annotated[
        str | None,
        typer.Option(
            "--calibration",
            help="How strongly (0-1, or auto: by how far the rated films' genres are from the "
            "catalogue's) the list follows the genres of the rated films; 0 keeps the model's "
            "order. Default: the new- or known-user default.",
        ),
    ] = None,
    dataset: DatasetOption = None,
    as_json: TableJsonFlag = False,
) -> None:
    """Top-k movies for a known user (--user) or for someone new (--rated / --rated-file)."""
    try:
        filters = _filters(genre, years, min_ratings)
        rows = _recommend(model_dir, user, rated, rated_file, k, filters, calibration, dataset)
    except AmbiguousTitleError as error:
        show_candidates(error)
        raise fail(error) from None
    except MatineeError as error:
        raise fail(error) from None
    who = f"user {user}" if user is not None else "you"
    _show(rows, "score", as_json, title=f"Top {k} for {who}")


@app.command("similar")
def similar_command(
    model_dir: SavedModel,
    movie: Annotated[
        str, typer.Option("--movie", help='A title or id, e.g. "Toy Story (1995)" or 1.')
    ],
    k: TopK = 10,
    min_ratings: MinRatings = 0,
    dataset: DatasetOption = None,
    as_json: TableJsonFlag = False,
) -> None:
    """The movies a saved model finds most like one movie, found by its title or id."""
    try:
        bundle = load_bundle(model_dir, dataset)
        try:
            found = bundle.find_movie(movie)
        except AmbiguousTitleError as error:
            show_candidates(error)
            raise ConfigError(
                f'{movie!r} matches several movies; add the year, e.g. "Title (1995)"'
            ) from None
        rows = bundle.similar(found.movie_id, k=k, filters=ListFilters(min_ratings=min_ratings))
    except MatineeError as error:
        raise fail(error) from None
    _show(rows, "similarity", as_json, title=f"Movies like {found.title}")


def _recommend(
    model_dir: Path,
    user: int | None,
    rated: str | None,
    rated_file: Path | None,
    k: int,
    filters: ListFilters,
    calibration_text: str | None,
    dataset: str | None,
) -> list[Recommendation]:
    given = [
        name
        for name, value in (("--user", user), ("--rated", rated), ("--rated-file", rated_file))
        if value is not None
    ]
    if len(given) != 1:
        raise ConfigError("give exactly one of --user, --rated and --rated-file")
    calibration = None if calibration_text is None else parse_strength(calibration_text)
    ratings = None
    if rated is not None:
        ratings = parse_rated(rated)
    elif rated_file is not None:
        ratings = read_rated_file(rated_file)
    bundle = load_bundle(model_dir, dataset)
    if ratings is None and user is not None:
        return bundle.recommend_user(user, k=k, filters=filters, calibration=calibration)
    return bundle.recommend_new_user(ratings, k=k, filters=filters, calibration=calibration)


def _filters(genres: list[str] | None, years: str | None, min_ratings: int) -> ListFilters:
    return ListFilters(
        genres=tuple(genres or ()),
        years=parse_year_range(years) if years else (None, None),
        min_ratings=min_ratings,
    )


def show_candidates(error: AmbiguousTitleError) -> None:
    """Print the movies each ambiguous title could mean, on stderr."""
    for text, movies in error.candidates.items():
        table = Table(title=f"Movies matching {text!r}")
        for column in ("movie_id", "title", "genres", "ratings"):
            table.add_column(column)
        for movie in movies[:20]:
            table.add_row(
                str(movie.movie_id), movie.title, ", ".join(movie.genres), str(movie.n_ratings)
            )
        err_console.print(table)


def _show(rows: Sequence[Recommendation], value: str, as_json: bool, *, title: str) -> None:
    if as_json:
        print_json([row.to_dict() for row in rows])
        return
    has_rating = any(row.predicted_rating is not None for row in rows)
    has_reasons = any(row.because for row in rows)
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("movie_id", justify="right")
    table.add_column("title")
    table.add_column("genres")
    table.add_column(value, justify="right")
    if has_rating:
        table.add_column("rating", justify="right")
    if has_reasons:
        table.add_column("because you rated", overflow="fold", min_width=12)
    for row in rows:
        cells = [str(row.rank), str(row.movie.movie_id), row.movie.title]
        cells += [", ".join(row.movie.genres), f"{row.score:.4f}"]
        if has_rating:
            cells.append("" if row.predicted_rating is None else f"{row.predicted_rating:.2f}")
        if has_reasons:
            cells.append("; ".join(reason.title for reason in row.because))
        table.add_row(*cells)
    console.print(table)
