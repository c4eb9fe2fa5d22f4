"""Readers for every MovieLens layout, each producing one :class:`Dataset`.

Ratings go through the fast block parser of :mod:`matinee.data._ratings_text` (polars, narrow
dtypes, ids mapped by a dense lookup table); the side tables (movies, tags, users, links) are
parsed by polars. Text encodings: latin-1 for ml-100k and ml-1m, UTF-8 elsewhere (latin-1 when a
file is not valid UTF-8).

Decisions: a rating outside the release's scale, a negative id, or a row that does not parse is a
:class:`MalformedFileError` naming the file and 1-based line. Duplicate (user, movie) pairs are
kept as they are: checking for them costs a sort of the whole file, and no GroupLens release has
any.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Protocol

import polars as pl

from matinee.data._ratings_text import (
    CSV_RATINGS,
    DAT_RATINGS,
    TAB_RATINGS,
    RatingsFormat,
    RawRatings,
    Source,
    map_ids,
    ratings_from_raw,
    read_raw_ratings,
)
from matinee.data.dataset import MOVIE_COLUMNS, Dataset
from matinee.data.ratings import Ratings
from matinee.data.releases import LayoutKind
from matinee.errors import MalformedFileError

__all__ = [
    "CSV_RATINGS",
    "DAT_RATINGS",
    "LAYOUT_RATINGS_FILE",
    "READERS",
    "TAB_RATINGS",
    "Reader",
    "RawRatings",
    "RatingsFormat",
    "Source",
    "map_ids",
    "ratings_from_raw",
    "read_csv_release",
    "read_ml1m",
    "read_ml10m",
    "read_ml100k",
    "read_raw_ratings",
]

_YEAR = r"\((\d{4})(?:\s*[-\u2013]\s*\d{0,4})?\)(?:\s*\([^)\d]*\))*\s*$"
"""A year in parentheses at the end of a title, maybe followed by a note such as ``(V)``."""
_NO_GENRES = "(no genres listed)"
_ML1M_OCCUPATIONS = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student",
    "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
    "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
    "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer",
)  # fmt: skip
_ML100K_USERS = {
    "user_id": pl.Int64, "age": pl.Int32, "gender": pl.Utf8, "occupation": pl.Utf8,
    "zip_code": pl.Utf8,
}  # fmt: skip
"""``u.user``: age in years, occupation by name."""
_ML1M_USERS = {
    "user_id": pl.Int64, "gender": pl.Utf8, "age": pl.Int32, "occupation": pl.Int32,
    "zip_code": pl.Utf8,
}  # fmt: skip
"""``users.dat``: age as a group code, occupation as an index of :data:`_ML1M_OCCUPATIONS`."""
_TAGS = {"user_id": pl.Int64, "movie_id": pl.Int64, "tag": pl.Utf8, "timestamp": pl.Int64}
"""``tags.dat`` and ``tags.csv``: who tagged which movie with what, and when."""


LAYOUT_RATINGS_FILE: Mapping[LayoutKind, tuple[str, RatingsFormat]] = {
    "ml-100k": ("u.data", TAB_RATINGS),
    "ml-1m": ("ratings.dat", DAT_RATINGS),
    "ml-10m": ("ratings.dat", DAT_RATINGS),
    "csv": ("ratings.csv", CSV_RATINGS),
}
"""The ratings file and its format for each layout."""


def _read_ratings(source: Source, layout: LayoutKind, rating_scale: tuple[float, float]) -> Ratings:
    name, fmt = LAYOUT_RATINGS_FILE[layout]
    raw = read_raw_ratings(source, name, fmt, rating_scale=rating_scale)
    return ratings_from_raw(raw, rating_scale)


def _table(
    source: Source,
    name: str,
    schema: Mapping[str, pl.DataType | type[pl.DataType]],
    *,
    separator: str,
    encoding: str = "utf-8",
    header: bool = False,
    unique: str | None = None,
) -> pl.DataFrame:
    """Parse a small delimited file with polars; ``::`` files are read through a 1-char stand-in.

    With ``unique`` (a side table's id column), a file that repeats an id is refused.
    """
    text = source.read_text(name, encoding)
    quote: str | None = '"' if separator == "," else None
    if separator == "::":
        text, separator = text.replace("::", "\x1f"), "\x1f"
    _check_last_line(source, name, text, separator, len(schema))
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode()),
            has_header=header,
            new_columns=list(schema),
            schema_overrides=schema,
            separator=separator,
            quote_char=quote,
            encoding="utf8",
        )
    except (pl.exceptions.PolarsError, ValueError) as error:
        line = _first_short_line(text, separator, len(schema), header)
        raise MalformedFileError(source.display(name), line, f"{error}".splitlines()[0]) from None
    if unique is not None:
        _check_unique(source, name, frame, unique, header)
    return frame


def _check_last_line(source: Source, name: str, text: str, separator: str, fields: int) -> None:
    """Refuse a file whose last row has too few fields (a truncated download or copy).

    Polars fills the missing fields with nulls, which would keep, say, a movie without genres.
    Only the last row is checked (that is where truncation cuts); rows with quotes are skipped.
    """
    stripped = text.rstrip("\r\n")
    number = stripped.count("\n") + 1
    last = stripped.rsplit("\n", 1)[-1]
    if last and '"' not in last and last.count(separator) < fields - 1:
        raise MalformedFileError(
            source.display(name),
            number,
            f"the last row has {last.count(separator) + 1} of {fields} fields "
            "(the file looks truncated)",
        )


def _check_unique(
    source: Source, name: str, frame: pl.DataFrame, column: str, header: bool
) -> None:
    """Refuse a side table in which one id appears on two rows (names the second row's line)."""
    repeated = frame.with_row_index("_row").filter(pl.col(column).is_duplicated())
    if repeated.height:
        first = repeated.filter(pl.col(column).is_first_distinct().not_())["_row"][0]
        value = frame[column][int(first)]
        raise MalformedFileError(
            source.display(name),
            int(first) + 1 + int(header),
            f"{column} {value} appears on more than one row",
        )


def _first_short_line(text: str, separator: str, fields: int, header: bool) -> int | None:
    """1-based number of the first line without the expected number of fields (error path)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if (header and number == 1) or not line or '"' in line:
            continue
        if line.count(separator) != fields - 1:
            return number
    return None


def _finish_movies(frame: pl.DataFrame, genres: pl.Expr) -> pl.DataFrame:
    """Add the year parsed from the title and genres as a list, in :data:`MOVIE_COLUMNS` order."""
    columns = {
        "movie_id": pl.col("movie_id").cast(pl.Int64),
        "title": pl.col("title"),
        "year": pl.col("title").str.extract(_YEAR, 1).cast(pl.Int32),
        "genres": genres,
        "imdb_id": pl.col("imdb_id").cast(pl.Int64) if "imdb_id" in frame.columns else None,
        "tmdb_id": pl.col("tmdb_id").cast(pl.Int64) if "tmdb_id" in frame.columns else None,
    }
    return frame.select(
        (pl.lit(None, pl.Int64) if expr is None else expr).alias(name)
        for name, expr in columns.items()
    ).select(MOVIE_COLUMNS)


def _split_genres() -> pl.Expr:
    """``A|B`` genres as a list, with ``(no genres listed)`` as an empty list."""
    return (
        pl.col("genres").str.split("|").list.eval(pl.element().filter(pl.element() != _NO_GENRES))
    )


def read_ml100k(source: Source, *, name: str, rating_scale: tuple[float, float]) -> Dataset:
    """ml-100k: ``u.data`` (tab), ``u.item`` (latin-1, 19 genre flags), ``u.user``, ``u.genre``."""
    ratings = _read_ratings(source, "ml-100k", rating_scale)
    genre_names = _table(source, "u.genre", {"genre": pl.Utf8, "code": pl.Int32}, separator="|")
    genre_names = genre_names.filter(pl.col("genre").is_not_null()).sort("code")
    flags = [f"flag_{code}" for code in genre_names["code"]]
    item_schema: dict[str, type[pl.DataType]] = {"movie_id": pl.Int64, "title": pl.Utf8}
    item_schema |= {column: pl.Utf8 for column in ("released", "video", "imdb_url")}
    item_schema |= {flag: pl.Int8 for flag in flags}
    items = _table(
        source, "u.item", item_schema, separator="|", encoding="latin-1", unique="movie_id"
    )
    genres = pl.concat_list(
        pl.when(pl.col(flag) == 1).then(pl.lit(genre)).otherwise(pl.lit(None, pl.Utf8))
        for flag, genre in zip(flags, genre_names["genre"], strict=True)
    ).list.drop_nulls()
    users = _table(source, "u.user", _ML100K_USERS, separator="|", unique="user_id")
    return Dataset(name, ratings, _finish_movies(items, genres), users=users)


def _tags(
    source: Source, name: str, *, separator: str, header: bool = False
) -> pl.DataFrame | None:
    """The release's tags file, or None where the release has none."""
    if not source.has(name):
        return None
    return _table(source, name, _TAGS, separator=separator, header=header)


def _dat_movies(source: Source, encoding: str) -> pl.DataFrame:
    schema = {"movie_id": pl.Int64, "title": pl.Utf8, "genres": pl.Utf8}
    movies = _table(
        source, "movies.dat", schema, separator="::", encoding=encoding, unique="movie_id"
    )
    return _finish_movies(movies, _split_genres())


def read_ml1m(source: Source, *, name: str, rating_scale: tuple[float, float]) -> Dataset:
    """ml-1m: ``::`` ``.dat`` files in ISO-8859-1, with ``users.dat`` (age group, job code)."""
    ratings = _read_ratings(source, "ml-1m", rating_scale)
    users = _table(source, "users.dat", _ML1M_USERS, separator="::", unique="user_id")
    occupations = pl.Series(_ML1M_OCCUPATIONS)
    users = users.with_columns(
        pl.col("occupation").map_batches(
            lambda codes: occupations.gather(codes.clip(0, len(occupations) - 1)),
            return_dtype=pl.Utf8,
        )
    ).select("user_id", "age", "gender", "occupation", "zip_code")
    return Dataset(name, ratings, _dat_movies(source, "latin-1"), users=users)


def read_ml10m(source: Source, *, name: str, rating_scale: tuple[float, float]) -> Dataset:
    """ml-10m (``ml-10M100K``): ``::`` ``.dat`` files in UTF-8, with ``tags.dat``."""
    ratings = _read_ratings(source, "ml-10m", rating_scale)
    tags = _tags(source, "tags.dat", separator="::")
    return Dataset(name, ratings, _dat_movies(source, "utf-8"), tags=tags)


def read_csv_release(source: Source, *, name: str, rating_scale: tuple[float, float]) -> Dataset:
    """CSV releases: ``ratings.csv``, ``movies.csv`` (``A|B`` genres), ``tags.csv``, ``links.csv``.

    ``links.csv`` fills the IMDb and TMDB ids; ``(no genres listed)`` becomes an empty list.
    """
    ratings = _read_ratings(source, "csv", rating_scale)
    movie_schema = {"movie_id": pl.Int64, "title": pl.Utf8, "genres": pl.Utf8}
    movies = _table(
        source, "movies.csv", movie_schema, separator=",", header=True, unique="movie_id"
    )
    if source.has("links.csv"):
        link_schema = {"movie_id": pl.Int64, "imdb_id": pl.Int64, "tmdb_id": pl.Int64}
        links = _table(source, "links.csv", link_schema, separator=",", header=True)
        movies = movies.join(links, on="movie_id", how="left")
    tags = _tags(source, "tags.csv", separator=",", header=True)
    return Dataset(name, ratings, _finish_movies(movies, _split_genres()), tags=tags)


class Reader(Protocol):
    """A layout reader: the files of ``source`` as one :class:`Dataset`."""

    def __call__(self, source: Source, *, name: str, rating_scale: tuple[float, float]) -> Dataset:
        """Read the release in ``source``, naming it ``name``, on the given rating scale."""
        ...


READERS: Mapping[LayoutKind, Reader] = {
    "ml-100k": read_ml100k,
    "ml-1m": read_ml1m,
    "ml-10m": read_ml10m,
    "csv": read_csv_release,
}
"""The reader of each layout; each takes ``(source, *, name, rating_scale)``."""
