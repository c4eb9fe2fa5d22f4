"""The movies a loaded model knows, indexed once for id lookups, filters and title search.

Titles are normalised once per catalog (case, accents, MovieLens's moved articles, punctuation),
so a query costs a dictionary lookup for exact titles, a binary search for prefixes, a scan of
one joined string (C speed) for words and substrings, and two ``rapidfuzz`` passes only when
nothing matched literally (typos).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
from rapidfuzz import fuzz, process

from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, UnknownIdError
from matinee.service.title_keys import (
    title_key,
    title_keys,
    without_article,
    without_article_expr,
)
from matinee.service.types import ListFilters, MovieInfo

__all__ = [
    "FUZZY_CUTOFF",
    "MATCH_KINDS",
    "MovieCatalog",
    "TitleMatch",
    "fuzzy_similarity",
    "split_year",
    "title_key",
    "without_article",
]

MATCH_KINDS = ("exact", "prefix", "word", "substring", "fuzzy")
"""How a title matched a query, best first."""

FUZZY_CUTOFF = 75.0
"""Lowest rapidfuzz ``ratio`` (0-100) that counts as a fuzzy match."""

START_PENALTY = 0.95
"""Factor on the score of a typo match against the start of a longer title."""

_YEAR = re.compile(r"\s*\((\d{4})(?:-\d{0,4})?\)\s*$")


def split_year(text: str) -> tuple[str, int | None]:
    """``"Heat (1995)"`` -> ``("Heat", 1995)``; text without a bracketed year keeps None."""
    match = _YEAR.search(text)
    if match is None:
        return text, None
    return text[: match.start()], int(match.group(1))


@dataclass(frozen=True)
class TitleMatch:
    """A movie index found for a query, how it matched, and (for fuzzy matches) how well."""

    index: int
    kind: str
    score: float = 100.0


class MovieCatalog:
    """Movies in the model's index order with their info, rating counts and a title index.

    Immutable after construction; safe to read from several threads.
    """

    def __init__(
        self,
        movie_ids: npt.ArrayLike,
        table: pl.DataFrame | None,
        counts: npt.ArrayLike,
    ) -> None:
        self.movie_ids: npt.NDArray[np.int64] = np.array(movie_ids, dtype=np.int64)
        self.counts: npt.NDArray[np.int64] = np.array(counts, dtype=np.int64)
        if self.counts.shape != self.movie_ids.shape:
            raise ConfigError(
                f"rating counts have shape {self.counts.shape}, expected {self.movie_ids.shape}"
            )
        self.movie_ids.setflags(write=False)
        self.counts.setflags(write=False)
        self._index: dict[int, int] = {m: i for i, m in enumerate(self.movie_ids.tolist())}
        self.infos: tuple[MovieInfo, ...] = tuple(self._infos(table))
        self.has_titles = table is not None
        self.years = np.array([-1 if m.year is None else m.year for m in self.infos], np.int64)
        self.years.setflags(write=False)
        self._genres = self._genre_masks()
        self._keys: list[str] = []
        self._fuzzy_keys: list[str] = []
        self._exact: dict[str, list[int]] = {}
        self._loose: dict[str, list[int]] = {}
        self._build_title_index()

    @classmethod
    def from_movies(cls, movies: pl.DataFrame, ratings: Ratings | None = None) -> MovieCatalog:
        """A catalog of every movie a release lists, with rating counts over ``ratings``."""
        ids = np.unique(movies["movie_id"].to_numpy().astype(np.int64))
        counts = np.zeros(ids.size, dtype=np.int64)
        if ratings is not None and ids.size:
            raw = ratings.movies.raw_ids
            pos = np.searchsorted(ids, raw)
            listed = (pos < ids.size) & (ids[np.minimum(pos, ids.size - 1)] == raw)
            counts[pos[listed]] = ratings.movie_counts()[listed]
        return cls(ids, movies, counts)

    def __len__(self) -> int:
        return int(self.movie_ids.size)

    # ---- ids -------------------------------------------------------------------------------

    def indices(self, movie_ids: Sequence[int]) -> npt.NDArray[np.int64]:
        """Model indices of raw movie ids; :class:`UnknownIdError` lists every unknown one.

        A dictionary lookup per id: a request's few ids cost microseconds, not numpy calls.
        """
        raw = [int(m) for m in movie_ids]
        found = [self._index.get(m, -1) for m in raw]
        if -1 in found:
            unknown = [m for m, i in zip(raw, found, strict=True) if i < 0]
            raise UnknownIdError("movie", list(dict.fromkeys(unknown)))
        return np.array(found, dtype=np.int64)

    def index_of(self, movie_id: int) -> int | None:
        """The model index of one raw movie id, or None when the model lacks it."""
        return self._index.get(movie_id)

    def info(self, movie_id: int) -> MovieInfo:
        """The movie with this raw id; :class:`UnknownIdError` if the model lacks it."""
        if isinstance(movie_id, bool) or not isinstance(movie_id, int | np.integer):
            raise UnknownIdError("movie", [movie_id])
        index = self._index.get(int(movie_id))
        if index is None:
            raise UnknownIdError("movie", [int(movie_id)])
        return self.infos[index]

    def fuzzy_key(self, index: int) -> str:
        """The key fuzzy matching compares the movie at ``index`` by (its main title)."""
        return self._fuzzy_keys[index]

    def exact_matches(self, key: str) -> list[int]:
        """Indices of the movies whose full, main or alternative title key is ``key``.

        Titles equal to ``key`` with their articles win; only when there are none do titles
        equal to it without a leading article count ("Heat" is Heat (1995), not The Heat).
        """
        return list(self._exact.get(key) or self._loose.get(without_article(key)) or [])

    # ---- filters ---------------------------------------------------------------------------

    def allowed(self, filters: ListFilters | None) -> npt.NDArray[np.bool_] | None:
        """A mask over model indices of the movies ``filters`` keeps (None: every movie)."""
        if filters is None or filters == ListFilters():
            return None
        keep = np.ones(len(self), dtype=bool)
        if filters.genres:
            wanted = np.zeros(len(self), dtype=bool)
            for genre in filters.genres:
                mask = self._genres.get(genre.casefold())
                if mask is not None:
                    wanted |= mask
            keep &= wanted
        low, high = filters.years
        if low is not None:
            keep &= self.years >= low
        if high is not None:
            keep &= (self.years <= high) & (self.years >= 0)
        if filters.min_ratings > 0:
            keep &= self.counts >= filters.min_ratings
        if filters.exclude:
            excluded = np.isin(self.movie_ids, np.asarray(filters.exclude, dtype=np.int64))
            keep &= ~excluded
        return keep

    # ---- title search ----------------------------------------------------------------------

    def search(self, text: str, *, limit: int = 10) -> list[TitleMatch]:
        """Movies whose title matches ``text``, best first (see :data:`MATCH_KINDS`).

        A bracketed year at the end keeps only that year. Within one kind of match, the movie
        rated most often comes first, then the shorter title. Fuzzy matching (typos) runs only
        when nothing matched literally.

        Raises:
            ConfigError: empty text or a limit below 1.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigError(f"search limit must be a positive integer, got {limit!r}")
        bare, year = split_year(str(text))
        query = title_key(bare)
        if not query:
            raise ConfigError(f"cannot search for the empty title {text!r}")
        found: dict[int, TitleMatch] = {}
        for index in self.exact_matches(query):
            found.setdefault(index, TitleMatch(index, "exact"))
        for index in self._prefix_matches(query):
            found.setdefault(index, TitleMatch(index, "prefix"))
        for index, whole_word in self._substring_matches(query):
            found.setdefault(index, TitleMatch(index, "word" if whole_word else "substring"))
        if year is not None:
            found = {i: m for i, m in found.items() if self.years[i] == year}
        if not found:
            found = {m.index: m for m in self._fuzzy(query, year, limit)}
        return sorted(found.values(), key=self._order)[:limit]

    def _order(self, match: TitleMatch) -> tuple[int, float, int, int, int]:
        info = self.infos[match.index]
        return (
            MATCH_KINDS.index(match.kind),
            -match.score,
            -int(self.counts[match.index]),
            len(info.title),
            match.index,
        )

    def _prefix_matches(self, query: str) -> list[int]:
        start = bisect.bisect_left(self._prefix_keys, query)
        hits = []
        for position in range(start, len(self._prefix_keys)):
            if not self._prefix_keys[position].startswith(query):
                break
            hits.append(self._prefix_index[position])
        return hits

    def _substring_matches(self, query: str) -> list[tuple[int, bool]]:
        """Every title holding ``query``, with whether it holds it as whole words."""
        hits: list[tuple[int, bool]] = []
        joined, starts = self._joined, self._starts
        position = joined.find(query)
        while position >= 0:
            index = bisect.bisect_right(starts, position) - 1
            end = position + len(query)
            whole = joined[position - 1] in " \n" and joined[end] in " \n"
            hits.append((index, whole))
            position = joined.find(query, end)
        return hits

    def _fuzzy(self, query: str, year: int | None, limit: int) -> list[TitleMatch]:
        """Typo-tolerant matches: whole main titles, then title starts of the query's length.

        Both use rapidfuzz's ``ratio`` (normalised Indel similarity, SIMD over all titles); a
        match on a title's start scores a little lower than one on the whole title.
        """
        bare = without_article(query)
        width = max(limit * 4, 20)
        scores: dict[int, float] = {}
        for _, score, index in process.extract(
            bare, self._fuzzy_keys, scorer=fuzz.ratio, limit=width, score_cutoff=FUZZY_CUTOFF
        ):
            scores[int(index)] = float(score)
        starts = [key[: len(bare)] for key in self._fuzzy_keys]
        cutoff = FUZZY_CUTOFF / START_PENALTY
        for _, score, index in process.extract(
            bare, starts, scorer=fuzz.ratio, limit=width, score_cutoff=cutoff
        ):
            scores[int(index)] = max(scores.get(int(index), 0.0), float(score) * START_PENALTY)
        matches = [TitleMatch(index, "fuzzy", score) for index, score in scores.items()]
        if year is not None:
            matches = [m for m in matches if self.years[m.index] == year]
        return matches

    # ---- construction ----------------------------------------------------------------------

    def _infos(self, table: pl.DataFrame | None) -> list[MovieInfo]:
        ids = pl.DataFrame({"movie_id": pl.Series(self.movie_ids, dtype=pl.Int64)})
        if table is None:
            table = pl.DataFrame(
                schema={
                    "movie_id": pl.Int64,
                    "title": pl.String,
                    "year": pl.Int64,
                    "genres": pl.List(pl.String),
                }
            )
        listed = table.select("movie_id", "title", "year", "genres").unique(
            subset="movie_id", keep="first", maintain_order=True
        )
        rows = ids.join(listed, on="movie_id", how="left", maintain_order="left")
        return [
            MovieInfo(
                movie_id,
                title or f"movie {movie_id}",
                None if year is None else int(year),
                tuple(genres or ()),
                count,
            )
            for movie_id, title, year, genres, count in zip(
                self.movie_ids.tolist(),
                rows["title"].to_list(),
                rows["year"].to_list(),
                rows["genres"].to_list(),
                self.counts.tolist(),
                strict=True,
            )
        ]

    def _genre_masks(self) -> dict[str, npt.NDArray[np.bool_]]:
        masks: dict[str, npt.NDArray[np.bool_]] = {}
        for index, info in enumerate(self.infos):
            for genre in info.genres:
                key = genre.casefold()
                if key not in masks:
                    masks[key] = np.zeros(len(self.infos), dtype=bool)
                masks[key][index] = True
        return masks

    def _build_title_index(self) -> None:
        keys = title_keys([info.title for info in self.infos])
        ids = pl.Series([str(m) for m in self.movie_ids.tolist()], dtype=pl.String)
        keys = keys.with_columns(
            pl.when(pl.col("full") != "").then(pl.col("full")).otherwise(ids).alias("full"),
            pl.int_range(pl.len(), dtype=pl.Int64).alias("index"),
        ).with_columns(
            pl.when(pl.col("fuzzy") != "").then("fuzzy").otherwise("full").alias("fuzzy")
        )
        self._keys = keys["full"].to_list()
        self._fuzzy_keys = keys["fuzzy"].to_list()
        own = (
            pl.concat(
                [
                    keys.select(pl.col(c).alias("key"), "index")
                    for c in ("full", "main", "alternative")
                ]
            )
            .drop_nulls()
            .unique()
        )
        loose = (
            own.with_columns(without_article_expr(pl.col("key")).alias("key"))
            .unique()
            .join(own, on=["key", "index"], how="anti")
        )
        self._exact = _grouped(own)
        self._loose = _grouped(loose)
        prefixes = pl.concat([own, loose]).sort("key", "index")
        self._prefix_keys: list[str] = prefixes["key"].to_list()
        self._prefix_index: list[int] = prefixes["index"].to_list()
        lengths = np.array([len(key) + 1 for key in self._keys], dtype=np.int64)
        self._starts = (np.cumsum(lengths) - lengths + 1).tolist()
        self._joined = "\n" + "\n".join(self._keys) + "\n"


def _grouped(frame: pl.DataFrame) -> dict[str, list[int]]:
    """``key -> indices`` (ascending) of a ``key, index`` frame."""
    grouped = frame.group_by("key").agg(pl.col("index").sort())
    return dict(zip(grouped["key"].to_list(), grouped["index"].to_list(), strict=True))


def fuzzy_similarity(query: str, key: str) -> float:
    """Whole-title similarity (0-100, rapidfuzz ``ratio``) of two keys, articles dropped."""
    return float(fuzz.ratio(without_article(query), without_article(key)))
