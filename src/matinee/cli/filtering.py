"""``--min-movie-ratings`` / ``--min-user-ratings``: rating-count filters for large catalogues.

Train, evaluate and compare take them, so that models with a dense movie x movie state (EASE)
or a costly one (item-kNN) fit a catalogue such as ml-25m's. Both filters run together to
a fixed point (the k-core: :func:`~matinee.data.filters.apply_filters` with ``until_stable``),
so every user and movie left has at least the asked-for ratings. What they removed is printed
on stderr; a saved model records the filters, and ``matinee evaluate`` applies them again
unless told otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from matinee.cli.app import err_console
from matinee.errors import ConfigError

__all__ = [
    "FILTER_KEYS",
    "CountFilters",
    "MinMovieRatings",
    "MinUserRatings",
    "RecordedMinMovieRatings",
    "RecordedMinUserRatings",
    "RecordedCountFilters",
    "apply_count_filters",
    "filters_record",
    "recorded_filters",
]

MinMovieRatings = Annotated[
    int | None,
    typer.Option(
        "--min-movie-ratings",
        help="Keep only movies with at least N ratings (with --min-user-ratings: both hold).",
    ),
]
MinUserRatings = Annotated[
    int | None,
    typer.Option(
        "--min-user-ratings",
        help="Keep only users with at least N ratings (with --min-movie-ratings: both hold).",
    ),
]

RecordedMinMovieRatings = Annotated[
    int | None,
    typer.Option("--min-movie-ratings", help="Movie filter; default: the one trained with."),
]
RecordedMinUserRatings = Annotated[
    int | None,
    typer.Option("--min-user-ratings", help="User filter; default: the one trained with."),
]

FILTER_KEYS = ("min_user_ratings", "min_movie_ratings")
"""Keys of the filters in a saved model's manifest ``extra``."""


def filters_record(min_user: int | None, min_movie: int | None) -> dict[str, int]:
    """The filters asked for, as manifest ``extra`` entries (none when no filter is set)."""
    values = dict(zip(FILTER_KEYS, (min_user, min_movie), strict=True))
    return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class CountFilters:
    """The two count filters as one option group (:func:`~matinee.cli._options.option_groups`)."""

    min_movie_ratings: MinMovieRatings = None
    min_user_ratings: MinUserRatings = None

    def record(self) -> dict[str, int]:
        """The filters asked for, as manifest ``extra`` entries (:func:`filters_record`)."""
        return filters_record(self.min_user_ratings, self.min_movie_ratings)


@dataclass(frozen=True)
class RecordedCountFilters(CountFilters):
    """The count filters of a command on a saved model: unset, the ones it was trained with."""

    min_movie_ratings: RecordedMinMovieRatings = None
    min_user_ratings: RecordedMinUserRatings = None


def recorded_filters(extra: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """``(min_user, min_movie)`` recorded in a manifest's ``extra`` (None where absent)."""
    found = []
    for key in FILTER_KEYS:
        value = extra.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"the manifest records {key}={value!r}; it must be an integer")
        found.append(value)
    return found[0], found[1]


CANONICAL_FOLDS = re.compile(r"^\s*u[1-5ab](-u[1-5])?\s*$", re.IGNORECASE)
"""Split specs that read ml-100k's own fold files (u1..u5, ua, ub), which hold every movie."""


def apply_count_filters(
    dataset: Any, min_user: int | None, min_movie: int | None, *, spec: str, quiet: bool
) -> Any:
    """The dataset with the count filters applied to a fixed point; unchanged without filters.

    Raises:
        ConfigError: A count below 1, filters that leave no rating, or filters with the
            canonical ml-100k folds (files of the unfiltered data).
    """
    from matinee.data import filters

    for flag, value in (("--min-user-ratings", min_user), ("--min-movie-ratings", min_movie)):
        if value is not None and value < 1:
            raise ConfigError(f"{flag} must be at least 1, got {value}")
    if (min_user is not None or min_movie is not None) and CANONICAL_FOLDS.match(spec):
        raise ConfigError(
            f"--split {spec} reads ml-100k's own fold files, which hold the movies and users "
            "the rating-count filters remove; use a split Matinee makes, e.g. --split random:0.1"
        )
    chosen: list[filters.RatingsFilter] = []
    if min_user is not None:
        chosen.append(filters.MinUserRatings(min_user))
    if min_movie is not None:
        chosen.append(filters.MinMovieRatings(min_movie))
    if not chosen:
        return dataset
    result = filters.apply_filters(dataset.ratings, chosen, until_stable=True)
    if result.report.ratings_after == 0:
        raise ConfigError(f"{result.report.name} leaves no rating of {dataset.name}; ask for fewer")
    if not quiet:
        err_console.print(str(result.report), highlight=False)
    return filters.with_filtered_ratings(dataset, result.ratings)
