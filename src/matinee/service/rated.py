"""Turn what a person says they rated (ids or titles, with ratings) into model movie ids.

Accepted: a mapping ``{id or title: rating}`` or pairs ``(id or title, rating)``. An ``int`` or a
digits-only string is a movie id; any other string is a title, found by its exact normalised
title (with or without the year), else by a unique best match (prefix, words, substring, or a
typo-tolerant fuzzy match). Every problem is collected before anything is raised, so one error
names every unknown movie and one names every ambiguous title.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from matinee.errors import DataError, UnknownIdError
from matinee.service.catalog import (
    MovieCatalog,
    TitleMatch,
    fuzzy_similarity,
    split_year,
    title_key,
)
from matinee.service.types import AmbiguousTitleError, MovieInfo

__all__ = [
    "FUZZY_MARGIN",
    "FUZZY_RESOLVE",
    "UnknownMoviesError",
    "resolve_ratings",
    "resolve_title",
]

FUZZY_RESOLVE = 85.0
"""Lowest whole-title similarity (rapidfuzz ``ratio``, 0-100) at which a typo resolves."""

FUZZY_MARGIN = 5.0
"""A fuzzy match is unique when no other title scores within this many points of it."""

RatingsInput = Mapping[int | str, float] | Iterable[tuple[int | str, float]]


class UnknownMoviesError(UnknownIdError):
    """Movie ids a model does not know and titles that match no movie, all listed."""

    def __init__(self, ids: list[int], titles: list[str]) -> None:
        super().__init__("movie", [*ids, *titles])
        self.unknown_ids = ids
        self.unknown_titles = titles
        parts = []
        if ids:
            parts.append("unknown movie id(s): " + ", ".join(str(i) for i in ids))
        if titles:
            parts.append("no movie title matches " + ", ".join(repr(t) for t in titles))
        self.args = ("; ".join(parts),)


def resolve_title(catalog: MovieCatalog, text: str) -> tuple[int | None, list[int]]:
    """The model index ``text`` names, else (None, candidates); no candidates: unknown."""
    bare, year = split_year(text)
    exact = [
        index
        for index in catalog.exact_matches(title_key(bare))
        if year is None or catalog.years[index] == year
    ]
    if len(exact) == 1:
        return exact[0], exact
    if exact:
        return None, sorted(exact, key=lambda i: -int(catalog.counts[i]))
    found = catalog.search(text, limit=20)
    if not found:
        return None, []
    best = _best_of_kind(catalog, title_key(bare), found)
    if len(best) == 1:
        return best[0].index, [best[0].index]
    return None, [match.index for match in best]


def _best_of_kind(catalog: MovieCatalog, query: str, found: list[TitleMatch]) -> list[TitleMatch]:
    """The matches of the best kind; for typos, the close whole-title matches only."""
    kind = found[0].kind
    same = [match for match in found if match.kind == kind]
    if kind != "fuzzy":
        return same
    scored = [(fuzzy_similarity(query, catalog.fuzzy_key(m.index)), m) for m in same]
    scored = [(score, m) for score, m in scored if score >= FUZZY_RESOLVE]
    top = max((score for score, _ in scored), default=0.0)
    return [m for score, m in sorted(scored, key=lambda p: -p[0]) if score > top - FUZZY_MARGIN]


def resolve_ratings(
    catalog: MovieCatalog, ratings: Any, scale: tuple[float, float]
) -> dict[int, float]:
    """``{raw movie id: rating}`` from ids or titles; see the module docstring.

    Raises:
        DataError: not a mapping or pairs, empty, a rating that is a boolean, not a number or
            off ``scale``, a movie given as neither id nor title, or one movie rated twice.
        UnknownMoviesError: every unknown id and every title that matches nothing.
        AmbiguousTitleError: every title that names several movies, with the candidates.
    """
    pairs = _pairs(ratings)
    if not pairs:
        raise DataError("no ratings given: rate at least one movie")
    values = [_rating(key, value) for key, value in pairs]
    unknown_ids: list[int] = []
    unknown_titles: list[str] = []
    ambiguous: dict[str, list[MovieInfo]] = {}
    indices: list[int] = []
    for key, _ in pairs:
        index = _resolve_key(catalog, key, unknown_ids, unknown_titles, ambiguous)
        indices.append(index)
    if unknown_ids or unknown_titles:
        raise UnknownMoviesError(unknown_ids, unknown_titles)
    if ambiguous:
        raise AmbiguousTitleError(ambiguous)
    _check_scale(pairs, values, scale)
    return _no_twice(catalog, pairs, indices, values)


def _pairs(ratings: Any) -> list[tuple[Any, Any]]:
    if isinstance(ratings, Mapping):
        return list(ratings.items())
    if isinstance(ratings, str | bytes) or not isinstance(ratings, Iterable):
        raise DataError(
            "ratings must be a mapping {movie id or title: rating} or (movie, rating) pairs, "
            f"got {type(ratings).__name__}"
        )
    pairs = []
    for item in ratings:
        if isinstance(item, str | bytes) or not isinstance(item, tuple | list) or len(item) != 2:
            raise DataError(f"each rating must be a (movie id or title, rating) pair, got {item!r}")
        pairs.append((item[0], item[1]))
    return pairs


def _rating(key: Any, value: Any) -> float:
    if isinstance(value, bool | np.bool_):
        raise DataError(f"the rating of {key!r} is a boolean ({value}); give a number")
    if not isinstance(value, int | float | np.integer | np.floating):
        raise DataError(f"the rating of {key!r} must be a number, got {value!r}")
    return float(value)


def _resolve_key(
    catalog: MovieCatalog,
    key: Any,
    unknown_ids: list[int],
    unknown_titles: list[str],
    ambiguous: dict[str, list[MovieInfo]],
) -> int:
    """The model index of one key, or -1 after noting why it has none."""
    if isinstance(key, bool | np.bool_):
        raise DataError(f"a movie is given as the boolean {key}; give its id or title")
    if isinstance(key, int | np.integer) or (isinstance(key, str) and key.strip().isdigit()):
        movie_id = int(key)
        index = catalog.index_of(movie_id)
        if index is None:
            unknown_ids.append(movie_id)
            return -1
        return index
    if not isinstance(key, str) or not key.strip():
        raise DataError(f"a movie must be given by id or title, got {key!r}")
    index, candidates = resolve_title(catalog, key.strip())
    if index is not None:
        return index
    if candidates:
        ambiguous[key.strip()] = [catalog.infos[i] for i in candidates]
    else:
        unknown_titles.append(key.strip())
    return -1


def _check_scale(
    pairs: list[tuple[Any, Any]], values: list[float], scale: tuple[float, float]
) -> None:
    low, high = scale
    off = [
        f"{key!r}: {value:g}"
        for (key, _), value in zip(pairs, values, strict=True)
        if not math.isfinite(value) or not low <= value <= high
    ]
    if off:
        raise DataError(
            f"ratings must lie in the rating scale {low:g}-{high:g}; off it: {', '.join(off)}"
        )


def _no_twice(
    catalog: MovieCatalog,
    pairs: list[tuple[Any, Any]],
    indices: list[int],
    values: list[float],
) -> dict[int, float]:
    resolved: dict[int, float] = {}
    given: dict[int, Any] = {}
    for (key, _), index, value in zip(pairs, indices, values, strict=True):
        movie_id = int(catalog.movie_ids[index])
        if movie_id in resolved:
            title = catalog.infos[index].title
            raise DataError(
                f"{title} [{movie_id}] is rated twice (as {given[movie_id]!r} and {key!r})"
            )
        resolved[movie_id] = value
        given[movie_id] = key
    return resolved
