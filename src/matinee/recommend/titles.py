"""Title search: turn what a person types into movie ids, best matches first."""

from __future__ import annotations

import re
import unicodedata

import polars as pl

from matinee.errors import ConfigError

__all__ = ["MATCH_KINDS", "find_movies", "normalise_title"]

MATCH_KINDS = ("exact", "prefix", "word", "substring")
"""How a title matched, best first: the ``match`` column of :func:`find_movies`."""

_YEAR = re.compile(r"\s*\((\d{4})\)\s*$")
_TRAILING_ARTICLE = re.compile(r"^(?P<rest>.*), (?P<article>the|a|an|les|la|le|l'|il|das|die|der)$")
_SPACES = re.compile(r"\s+")


def normalise_title(text: str) -> str:
    """Case-folded, accent-free text with MovieLens's moved article put back in front.

    ``"Amélie (Fabuleux destin d'Amélie Poulain, Le)"`` becomes ``"amelie (fabuleux ...)"`` and
    ``"Matrix, The"`` becomes ``"the matrix"``.
    """
    if text.isascii():  # most titles: nothing to decompose
        plain = text
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    folded = _SPACES.sub(" ", plain.casefold()).strip()
    match = _TRAILING_ARTICLE.match(folded)
    if match:
        article = match["article"]
        folded = f"{article}{'' if article.endswith(chr(39)) else ' '}{match['rest']}"
    return folded


def _split_year(text: str) -> tuple[str, int | None]:
    match = _YEAR.search(text)
    if match is None:
        return text, None
    return text[: match.start()], int(match.group(1))


def _main_title(title: str) -> str:
    """The title without its year and without an alternative title in brackets."""
    bare, _ = _split_year(title)
    return normalise_title(re.sub(r"\s*\([^)]*\)\s*$", "", bare) or bare)


def _match_rank(query: str, title: str) -> int | None:
    """0 exact, 1 prefix, 2 whole words, 3 substring of the title; None when it does not match."""
    main = _main_title(title)
    full = normalise_title(_split_year(title)[0])
    if query in (main, full):
        return 0
    if main.startswith(query) or full.startswith(query):
        return 1
    if re.search(rf"\b{re.escape(query)}\b", full):
        return 2
    if query in full:
        return 3
    return None


def find_movies(movies: pl.DataFrame, text: str, *, limit: int = 10) -> pl.DataFrame:
    """Movies whose title contains ``text`` (case- and accent-insensitive), best first.

    A year in brackets at the end (``"Toy Story (1995)"``) keeps only that year. Exact titles come
    first, then titles that start with the text, whole-word matches, and other substrings; ties go
    to the shorter title, then the older movie. Columns: ``movie_id, title, year, genres, match``
    (one of :data:`MATCH_KINDS`).

    Raises:
        ConfigError: empty text or a non-positive limit.
    """
    if limit < 1:
        raise ConfigError(f"limit must be >= 1, got {limit}")
    bare, year = _split_year(text)
    query = normalise_title(bare)
    if not query:
        raise ConfigError(f"cannot search for the empty title {text!r}")
    table = movies.select("movie_id", "title", "year", "genres")
    ranked = []
    for movie_id, title, movie_year in table.select("movie_id", "title", "year").iter_rows():
        if year is not None and movie_year != year:
            continue
        rank = _match_rank(query, title)
        if rank is not None:
            ranked.append((rank, len(title), movie_year or 0, movie_id))
    ranked.sort()
    order = pl.DataFrame(
        {
            "movie_id": [row[3] for row in ranked[:limit]],
            "match": [MATCH_KINDS[row[0]] for row in ranked[:limit]],
        },
        schema={"movie_id": pl.Int64, "match": pl.String},
    )
    return order.join(table, on="movie_id", how="left", maintain_order="left").select(
        "movie_id", "title", "year", "genres", "match"
    )
