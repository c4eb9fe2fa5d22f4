"""The values the service layer hands out: movies, reasons, list rows, filters, one error.

Every value is a frozen dataclass with ``to_dict()`` giving JSON-ready data, so the CLI, the
HTTP server and scripts print or send the same fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matinee.errors import ConfigError, DataError

__all__ = [
    "AmbiguousTitleError",
    "ListFilters",
    "MovieInfo",
    "Reason",
    "Recommendation",
]


@dataclass(frozen=True, kw_only=True)
class ListFilters:
    """Which movies a list may hold; the same meaning as the CLI's recommend filters."""

    genres: tuple[str, ...] = ()
    """Keep movies with any of these genres (case-insensitive); empty keeps all."""

    years: tuple[int | None, int | None] = (None, None)
    """Inclusive release-year range; None leaves that side open."""

    min_ratings: int = 0
    """Keep movies rated at least this many times in the model's training data."""

    exclude: tuple[int, ...] = ()
    """Raw movie ids never to return."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "genres", tuple(str(genre) for genre in self.genres))
        object.__setattr__(self, "exclude", tuple(_whole(m, "exclude") for m in self.exclude))
        if isinstance(self.min_ratings, bool) or not isinstance(self.min_ratings, int):
            raise ConfigError(
                f"ListFilters.min_ratings must be an integer, got {self.min_ratings!r}"
            )
        if self.min_ratings < 0:
            raise ConfigError(f"ListFilters.min_ratings must be >= 0, got {self.min_ratings}")
        if len(self.years) != 2:
            raise ConfigError(f"ListFilters.years must be (low, high), got {self.years!r}")
        low, high = (None if y is None else _whole(y, "years") for y in self.years)
        if low is not None and high is not None and low > high:
            raise ConfigError(f"ListFilters.years {low}-{high} is an empty range")
        object.__setattr__(self, "years", (low, high))


def _whole(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"ListFilters.{field} takes integers, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class MovieInfo:
    """One movie as a person sees it: id, title, year, genres and training rating count."""

    movie_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]
    n_ratings: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "movie_id": self.movie_id,
            "title": self.title,
            "year": self.year,
            "genres": list(self.genres),
            "n_ratings": self.n_ratings,
        }


@dataclass(frozen=True)
class Reason:
    """A rated movie and how much it lifted the candidate: "because you rated <title>"."""

    movie_id: int
    title: str
    weight: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"movie_id": self.movie_id, "title": self.title, "weight": self.weight}


@dataclass(frozen=True)
class Recommendation:
    """One row of a list: the movie, its rank (1 = best), its score, and why."""

    movie: MovieInfo
    rank: int
    score: float
    predicted_rating: float | None
    """On the rating scale for rating models; None for rankers whose scores are not ratings."""
    because: tuple[Reason, ...] = ()
    """Up to three rated movies that lifted this one; empty where the model cannot explain."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the movie's fields flattened into the row."""
        return {
            **self.movie.to_dict(),
            "rank": self.rank,
            "score": self.score,
            "predicted_rating": self.predicted_rating,
            "because": [reason.to_dict() for reason in self.because],
        }


class AmbiguousTitleError(DataError):
    """Titles that name several movies equally well; ``candidates`` lists them per title."""

    def __init__(self, candidates: Mapping[str, Sequence[MovieInfo]]) -> None:
        self.candidates: dict[str, list[MovieInfo]] = {
            text: list(found) for text, found in candidates.items()
        }
        parts = []
        for text, found in self.candidates.items():
            shown = "; ".join(f"{movie.title} [{movie.movie_id}]" for movie in found[:10])
            more = f"; and {len(found) - 10} more" if len(found) > 10 else ""
            parts.append(f"{text!r} matches several movies: {shown}{more}")
        super().__init__(
            ". ".join(parts) + '. Add the year, e.g. "Title (1995)", or give the movie id'
        )
