"""The movies a loaded model knows, indexed once for id lookups, filters and title search.

Titles are normalised once per catalog (case, accents, MovieLens's moved articles, punctuation),
so a query costs a dictionary lookup for exact titles, a binary search for prefixes, a scan of
one joined string (C speed) for words and substrings, and a ``rapidfuzz`` pass only when nothing
matched literally (typos).
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

from matinee.errors import ConfigError, UnknownIdError
from matinee.recommend.titles import normalise_title
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

FUZZY_CUTOFF = 80.0
"""Lowest rapidfuzz ``WRatio`` (0-100) that counts as a fuzzy match."""

_YEAR = re.compile(r"\s*\((\d{4})(?:-\d{0,4})?\)\s*$")
_BRACKET = re.compile(r"\s*\(([^()]*)\)\s*$")
_NOT_WORD = re.compile(r"[^\w]+")
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an|les|la|le|l|il|das|die|der) ")


def title_key(text: str) -> str:
    """The form titles are compared in: :func:`normalise_title`, punctuation as single spaces.

    ``"Good, the Bad and the Ugly, The"`` and ``"the good the bad and the ugly"`` share a key.
    """
    return _NOT_WORD.sub(" ", normalise_title(text)).strip()


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
        self.infos: tuple[MovieInfo, ...] = tuple(self._infos(table))
        self.has_titles = table is not None
        self.years = np.array([-1 if m.year is None else m.year for m in self.infos], np.int64)
        self.years.setflags(write=False)
        self._genres = self._genre_masks()
        self._keys: list[str] = []
        self._fuzzy_keys: list[str] = []
        self._exact: dict[str, list[int]] = {}
        self._prefixes: list[tuple[str, int]] = []
        self._build_title_index()

    def __len__(self) -> int:
        return int(self.movie_ids.size)

    # ---- ids -------------------------------------------------------------------------------

    def indices(self, movie_ids: Sequence[int]) -> npt.NDArray[np.int64]:
        """Model indices of raw movie ids; :class:`UnknownIdError` lists every unknown one."""
        raw = np.asarray(list(movie_ids), dtype=np.int64)
        pos = np.searchsorted(self.movie_ids, raw)
        clipped = np.minimum(pos, max(self.movie_ids.size - 1, 0))
        found = (pos < self.movie_ids.size) & (self.movie_ids[clipped] == raw)
        if not np.all(found):
            raise UnknownIdError("movie", list(dict.fromkeys(raw[~found].tolist())))
        return pos.astype(np.int64)

    def info(self, movie_id: int) -> MovieInfo:
        """The movie with this raw id; :class:`UnknownIdError` if the model lacks it."""
        if isinstance(movie_id, bool) or not isinstance(movie_id, int | np.integer):
            raise UnknownIdError("movie", [movie_id])
        return self.infos[int(self.indices([int(movie_id)])[0])]

    def fuzzy_key(self, index: int) -> str:
        """The key fuzzy matching compares the movie at ``index`` by (its main title)."""
        return self._fuzzy_keys[index]

    def exact_matches(self, key: str) -> list[int]:
        """Indices of the movies whose full, main or alternative title key is ``key``."""
        return list(self._exact.get(key, ()))

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
        for index in self._exact.get(query, ()):
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
        start = bisect.bisect_left(self._prefixes, (query, -1))
        hits = []
        for key, index in self._prefixes[start:]:
            if not key.startswith(query):
                break
            hits.append(index)
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
        found = process.extract(
            without_article(query),
            self._fuzzy_keys,
            scorer=fuzz.WRatio,
            limit=max(limit * 4, 20),
            score_cutoff=FUZZY_CUTOFF,
        )
        shortest = 0.6 * len(
            without_article(query)
        )  # a short title inside a long query is no match
        matches = [
            TitleMatch(int(index), "fuzzy", float(score))
            for key, score, index in found
            if len(key) >= shortest
        ]
        if year is not None:
            matches = [m for m in matches if self.years[m.index] == year]
        return matches

    # ---- construction ----------------------------------------------------------------------

    def _infos(self, table: pl.DataFrame | None) -> list[MovieInfo]:
        rows: dict[int, tuple[str, int | None, tuple[str, ...]]] = {}
        if table is not None:
            for movie_id, title, year, genres in table.select(
                "movie_id", "title", "year", "genres"
            ).iter_rows():
                rows.setdefault(
                    int(movie_id),
                    (str(title or f"movie {movie_id}"), year, tuple(genres or ())),
                )
        infos = []
        for movie_id, count in zip(self.movie_ids.tolist(), self.counts.tolist(), strict=True):
            title, year, genres = rows.get(movie_id, (f"movie {movie_id}", None, ()))
            infos.append(MovieInfo(movie_id, title, year, genres, int(count)))
        return infos

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
        prefixes: list[tuple[str, int]] = []
        for index, info in enumerate(self.infos):
            keys = _title_keys(info.title) or [str(info.movie_id)]
            self._keys.append(keys[0])
            main = title_key(_BRACKET.sub("", split_year(info.title)[0])) or keys[0]
            self._fuzzy_keys.append(without_article(main))
            for key in dict.fromkeys(keys):
                self._exact.setdefault(key, []).append(index)
                prefixes.append((key, index))
        prefixes.sort()
        self._prefixes = prefixes
        self._starts = []
        parts = []
        offset = 1
        for key in self._keys:
            self._starts.append(offset)
            parts.append(key)
            offset += len(key) + 1
        self._joined = "\n" + "\n".join(parts) + "\n"


def without_article(key: str) -> str:
    """A title key without its leading article: fuzzy matching compares the words that count."""
    return _LEADING_ARTICLE.sub("", key, count=1)


def fuzzy_similarity(query: str, key: str) -> float:
    """Whole-title similarity (0-100, rapidfuzz ``ratio``) of two keys, articles dropped."""
    return float(fuzz.ratio(without_article(query), without_article(key)))


def _title_keys(title: str) -> list[str]:
    """Keys a title is found under: the full title, the main title, an alternative title.

    ``"City of Lost Children, The (Cité des enfants perdus, La) (1995)"`` is found as "the city
    of lost children cite des enfants perdus la", "the city of lost children" and "la cite des
    enfants perdus".
    """
    bare, _ = split_year(title)
    keys = [title_key(bare)]
    if not keys[0]:
        return []
    bracket = _BRACKET.search(bare)
    if bracket is not None and bracket.start() > 0:
        keys.append(title_key(bare[: bracket.start()]))
        alternative = re.sub(r"^(a\.k\.a\.|aka)\s+", "", bracket.group(1), flags=re.IGNORECASE)
        keys.append(title_key(alternative))
    keys += [without_article(key) for key in keys]
    return [key for key in keys if key]
