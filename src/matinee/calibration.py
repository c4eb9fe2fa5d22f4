"""Calibrated lists (Steck, RecSys 2018, "Calibrated Recommendations"), for every model.

A model-agnostic re-ranking of a model's own list: from the model's best ``pool`` films (by
its ranking score, rated and filtered films left out) a greedy picks ``k`` that maximise
``(1 - strength) * sum of relevance - strength * KL(p || q~)``. ``p`` is the genre
distribution of the films the person rated (each film spreads weight ``1/|genres|`` over its
genres), ``q`` that of the list, ``q~ = (1 - alpha) q + alpha p``; relevance is the model's
score normalised per list. Strength 0 gives the model's own order. It needs the movies
table's genres: without them lists are unchanged.

Strength ``"auto"`` sets it per person (:class:`AutoStrength`) from how far their ``p`` is
from the catalogue's genre mix ``q_cat`` (every film the model knows, weighted alike):
``most * clip((KL(p || q_cat) - onset) / span, 0, 1)``. Someone who rated only films of one
kind is far from the catalogue and gets a strong pull to their kind; most people rate a mix
near the catalogue's and keep the model's order, so NDCG@10 on held-out users stays (README,
"New users").

It sits below both recommendation and evaluation, so that the lists a person gets and the
lists ``compare`` judges come from the same code. The greedy is compiled
(:mod:`matinee._calibrate_kernel`).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import polars as pl
import scipy.sparse as sp

from matinee.data.ids import IdMap
from matinee.errors import ConfigError
from matinee.ranking import top_k, top_k_row
from matinee.types import FloatArray, IndexArray

__all__ = [
    "AUTO",
    "KNOWN_USER_STRENGTH",
    "NEW_USER_STRENGTH",
    "AutoStrength",
    "Calibration",
    "Strength",
    "ListCalibration",
    "calibrate_block",
    "calibrate_pools",
    "calibrate_row",
    "check_strength",
    "genre_weights",
    "genre_weights_of",
    "parse_strength",
    "catalogue_mix",
    "row_strengths",
    "taste_of",
    "tastes",
]

Strength: TypeAlias = float | Literal["auto"]
"""A calibration strength: a number in [0, 1], or ``"auto"`` (one per person)."""

AUTO: Literal["auto"] = "auto"
"""The adaptive strength (:class:`AutoStrength`)."""

NEW_USER_STRENGTH: Strength = "auto"
"""Default strength for new (folded-in) people's lists: one per person (:class:`AutoStrength`),
chosen on validation splits (``benchmarks/results/taste-validation.md``, README)."""

KNOWN_USER_STRENGTH: Strength = 0.0
"""Default strength for known users' lists, chosen by measurement (README); ``"auto"`` was not
measured on known users."""


def check_strength(value: object, what: str = "calibration") -> Strength:
    """``value`` as a float in [0, 1] or ``"auto"``; :class:`ConfigError` naming it otherwise."""
    if value == AUTO:
        return AUTO
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfigError(f"{what} must be a number in [0, 1] or 'auto', got {value!r}")
    strength = float(value)
    if not math.isfinite(strength) or not 0.0 <= strength <= 1.0:
        raise ConfigError(f"{what} must be in [0, 1], got {value!r}")
    return strength


def parse_strength(text: str, what: str = "calibration") -> Strength:
    """A strength typed by a person (``"auto"`` or a number in [0, 1]), checked."""
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{what} must be a number in [0, 1] or 'auto', got {text!r}") from None
    return check_strength(value, what)


@dataclass(frozen=True)
class AutoStrength:
    """A strength per person: ``most * clip((KL(p || q_cat) - onset) / span, 0, 1)``.

    ``q_cat`` is the catalogue's genre mix. The settings were chosen on validation splits
    (``bench_taste.py``), not on the reported seeds.
    """

    onset: float = 0.5
    """KL (nats) below which a person keeps the model's order (about the 90th percentile of
    held-out users' distances on ml-100k and ml-latest-small)."""

    span: float = 0.5
    """KL above ``onset`` at which the strength reaches ``most``."""

    most: float = 0.9
    """Largest strength, for the people farthest from the catalogue."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.onset) and self.onset >= 0.0):
            raise ConfigError(f"auto calibration onset must be >= 0, got {self.onset!r}")
        if not (math.isfinite(self.span) and self.span > 0.0):
            raise ConfigError(f"auto calibration span must be > 0, got {self.span!r}")
        check_strength(self.most, "auto calibration most")

    def of(self, distances: FloatArray) -> FloatArray:
        """The strength of each person at KL ``distances`` from the catalogue."""
        ramp = np.clip((distances - self.onset) / self.span, 0.0, 1.0)
        return np.asarray(self.most * ramp, dtype=np.float64)


@dataclass(frozen=True)
class Calibration:
    """How strongly, and from how many candidates, a list is calibrated to the person's taste."""

    strength: Strength = NEW_USER_STRENGTH
    """Weight ``lambda`` of the KL term against relevance: 0 keeps the model's order;
    ``"auto"``: one per person, from ``auto``."""

    auto: AutoStrength = AutoStrength()
    """How ``"auto"`` sets each person's strength."""

    pool: int = 200
    """Candidates: the model's best films by its ranking score (rated and filtered ones out)."""

    alpha: float = 0.01
    """Share of ``p`` mixed into the list's distribution so that KL stays finite."""

    relevance: Literal["minmax", "rank"] = "minmax"
    """Relevance of a candidate: its score min-max scaled over the pool, or ``1 - rank/pool``."""

    taste: Literal["presence", "liked"] = "presence"
    """``p`` from every rated film, or only from those rated at or above the person's mean."""

    def __post_init__(self) -> None:
        check_strength(self.strength)
        if isinstance(self.pool, bool) or not isinstance(self.pool, int) or self.pool < 1:
            raise ConfigError(f"calibration pool must be a positive integer, got {self.pool!r}")
        if not 0.0 < self.alpha <= 1.0:
            raise ConfigError(f"calibration alpha must be in (0, 1], got {self.alpha!r}")
        if self.relevance not in ("minmax", "rank"):
            raise ConfigError(f"calibration relevance must be minmax or rank, not {self.relevance}")
        if self.taste not in ("presence", "liked"):
            raise ConfigError(f"calibration taste must be presence or liked, not {self.taste}")

    @property
    def active(self) -> bool:
        """Whether lists may leave the model's order (``"auto"`` or a strength above 0)."""
        return self.strength == AUTO or self.strength > 0.0


def genre_weights(movies: pl.DataFrame | None, movie_map: IdMap) -> FloatArray | None:
    """``(n_movies, n_genres)`` weights ``1/|genres|`` in the model's movie order, or None.

    None when there is no movies table or no genre at all; films missing from the table (or
    without genres) get a row of zeros and weigh nothing in either distribution.
    """
    if movies is None or "genres" not in movies.columns:
        return None
    table = movies.select("movie_id", "genres").unique(subset="movie_id", keep="first")
    known = table.filter(pl.col("movie_id").is_in(movie_map.raw_ids.tolist()))
    listed: list[Sequence[str] | None] = [None] * len(movie_map)
    rows = movie_map.indices(known["movie_id"].to_numpy())
    for row, genres in zip(rows.tolist(), known["genres"].to_list(), strict=True):
        listed[row] = genres
    return genre_weights_of(listed)


def genre_weights_of(genre_lists: Sequence[Sequence[str] | None]) -> FloatArray | None:
    """:func:`genre_weights` from each movie's genres, in the model's order (None: no genre)."""
    names = sorted({name for genres in genre_lists if genres for name in genres})
    if not names:
        return None
    column = {name: position for position, name in enumerate(names)}
    weights = np.zeros((len(genre_lists), len(names)), dtype=np.float64)
    for row, genres in enumerate(genre_lists):
        if genres:
            weights[row, [column[name] for name in genres]] += 1.0 / len(genres)
    return weights


def tastes(rated: sp.csr_matrix, genres: FloatArray, how: str = "presence") -> FloatArray:
    """``p(g|u)`` of each row of ``rated`` (people x movies CSR of ratings), rows summing to 1.

    ``how="liked"`` counts only the films rated at or above the row's mean rating. A row whose
    films have no genre is all zeros (the KL term is then 0 for every list).
    """
    matrix = sp.csr_matrix(rated, dtype=np.float64)
    weights = matrix.copy()
    if matrix.nnz:
        counts = np.maximum(np.diff(matrix.indptr), 1)
        means = np.asarray(matrix.sum(axis=1)).ravel() / counts
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        weights.data = _film_weights(matrix.data, means[rows], how)
    return _normalised(np.asarray(weights @ genres, dtype=np.float64))


def taste_of(
    rated: npt.ArrayLike, ratings: npt.ArrayLike, genres: FloatArray, how: str = "presence"
) -> FloatArray:
    """:func:`tastes` of one person, from the films' indices and ratings (``(1, n_genres)``)."""
    values = np.asarray(ratings, dtype=np.float64)
    mean = values.mean() if values.size else 0.0
    weights = _film_weights(values, np.full(values.size, mean), how)
    return _normalised((weights @ genres[np.asarray(rated, dtype=np.int64)])[None, :])


def _film_weights(
    values: npt.NDArray[np.float64], means: npt.NDArray[np.float64], how: str
) -> FloatArray:
    """Each rated film's weight in p: 1, or with ``liked`` 1 only at or above the mean."""
    if how == "liked":
        return (values >= means - 1e-6).astype(np.float64)
    return np.ones_like(values)


def row_strengths(
    taste_rows: FloatArray, genres: FloatArray, calibration: Calibration
) -> FloatArray:
    """Each row's strength under ``calibration`` (``"auto"``: from KL to the catalogue's mix)."""
    if calibration.strength != AUTO:
        return np.full(taste_rows.shape[0], float(calibration.strength), dtype=np.float64)
    catalogue = catalogue_mix(genres)
    terms = np.divide(
        taste_rows,
        catalogue,
        out=np.ones_like(taste_rows),
        where=(taste_rows > 0) & (catalogue > 0),
    )
    distances = (taste_rows * np.log(terms)).sum(axis=1)
    return calibration.auto.of(distances)


_MIXES: dict[int, tuple[weakref.ref[FloatArray], FloatArray]] = {}


def catalogue_mix(genres: FloatArray) -> FloatArray:
    """``q_cat``, the catalogue's genre mix, worked out once per ``genres`` array.

    A served list asks for it on every request; summing 9,742 x 20 weights each time cost a
    quarter of a millisecond. Entries go when their array does.
    Cached by array identity: assumes ``genres`` is never changed in place (pass a new array).
    """
    key = id(genres)
    held = _MIXES.get(key)
    if held is not None and held[0]() is genres:
        return held[1]
    mix: FloatArray = _normalised(genres.sum(axis=0, keepdims=True))[0]
    _MIXES[key] = (weakref.ref(genres, lambda _: _MIXES.pop(key, None)), mix)
    return mix


def _normalised(mass: FloatArray) -> FloatArray:
    """Rows of ``mass`` scaled to sum to 1 (all-zero rows stay zero)."""
    totals = mass.sum(axis=1, keepdims=True)
    shares: FloatArray = np.divide(mass, totals, out=np.zeros_like(mass), where=totals > 0)
    return shares


def _relevance(
    pool_scores: npt.NDArray[np.floating[Any]], valid: npt.NDArray[np.bool_], how: str
) -> FloatArray:
    """Per-row relevance of the pool in [0, 1], best first; padded slots get 0."""
    if how == "rank":
        ranks = np.arange(pool_scores.shape[1], dtype=np.float64)
        sizes = np.maximum(valid.sum(axis=1, keepdims=True), 1)
        return np.where(valid, 1.0 - ranks / sizes, 0.0)
    values = pool_scores.astype(np.float64)
    low = np.where(valid, values, np.inf).min(axis=1, keepdims=True)
    high = np.where(valid, values, -np.inf).max(axis=1, keepdims=True)
    low, high = np.where(np.isfinite(low), low, 0.0), np.where(np.isfinite(high), high, 0.0)
    spread = high - low
    scaled = np.divide(values - low, spread, out=np.ones_like(values), where=spread > 0)
    return np.where(valid, scaled, 0.0)


def calibrate_pools(
    pools: npt.NDArray[np.integer[Any]],
    pool_scores: npt.NDArray[np.floating[Any]],
    taste_rows: FloatArray,
    genres: FloatArray,
    k: int,
    calibration: Calibration,
    strengths: FloatArray | None = None,
) -> IndexArray:
    """``(n_rows, k)`` movie indices chosen from each row's pool (``-1`` pads), best first.

    Args:
        pools: ``(n_rows, pool)`` candidate movie indices in the model's order (``-1`` pads).
        pool_scores: Their ranking scores.
        taste_rows: ``(n_rows, n_genres)`` p of each person (see :func:`tastes`).
        genres: ``(n_movies, n_genres)`` from :func:`genre_weights`.
        k: Films per list.
        calibration: Strength and the rest.
        strengths: Each row's strength when the caller already has them (see
            :func:`row_strengths`); worked out here otherwise.
    """
    from matinee._calibrate_kernel import calibrate_one_row, calibrate_rows

    pools = np.ascontiguousarray(np.atleast_2d(pools), dtype=np.int32)
    width = min(k, pools.shape[1])
    if not calibration.active:
        return np.ascontiguousarray(pools[:, :width])
    taste_rows = np.ascontiguousarray(np.atleast_2d(taste_rows), dtype=np.float64)
    lams = row_strengths(taste_rows, genres, calibration) if strengths is None else strengths
    if not lams.any():
        return np.ascontiguousarray(pools[:, :width])
    valid = pools >= 0
    relevance = _relevance(np.atleast_2d(pool_scores), valid, calibration.relevance)
    out = np.empty((pools.shape[0], width), dtype=np.int32)
    alpha = calibration.alpha
    if pools.shape[0] == 1:
        row = (pools[0], relevance[0], genres, taste_rows[0], width, lams[0], alpha, out[0])
        calibrate_one_row(*row)
    else:
        calibrate_rows(pools, relevance, genres, taste_rows, width, lams, alpha, out)
    return out


def calibrate_block(
    scores: npt.NDArray[np.floating[Any]],
    rated: sp.csr_matrix,
    genres: FloatArray,
    k: int,
    calibration: Calibration,
    exclude: sp.csr_matrix | None = None,
) -> IndexArray:
    """Calibrated top ``k`` of a block of people: the model's top ``pool``, then the greedy.

    ``rated`` (people x movies CSR of ratings) gives each person's taste and is never
    recommended, nor is ``exclude`` (for example validation films) when given.
    """
    seen = rated if exclude is None else exclude
    pools = top_k(scores, max(calibration.pool, k), exclude=seen)
    pool_scores = np.take_along_axis(np.asarray(scores), np.maximum(pools, 0), axis=1)
    taste_rows = tastes(rated, genres, calibration.taste)
    return calibrate_pools(pools, pool_scores, taste_rows, genres, k, calibration)


def calibrate_row(
    masked: npt.NDArray[np.floating[Any]],
    rated: npt.ArrayLike,
    ratings: npt.ArrayLike,
    genres: FloatArray,
    k: int,
    calibration: Calibration,
) -> npt.NDArray[np.int64]:
    """One person's calibrated top ``k`` (no padding), from a row of scores.

    ``masked`` holds ``-inf`` for every film that must not come back (rated, filtered); the
    person's taste comes from the films ``rated`` with ``ratings``.
    """
    if not calibration.active:
        return top_k_row(masked, k)
    taste_row = taste_of(rated, ratings, genres, calibration.taste)
    strengths = row_strengths(taste_row, genres, calibration)
    if not strengths.any():
        return top_k_row(masked, k)  # "auto" leaves most people's order as it is
    pool = top_k_row(masked, max(calibration.pool, k))
    chosen = calibrate_pools(
        pool[None, :], masked[pool][None, :], taste_row, genres, k, calibration, strengths
    )
    picked: npt.NDArray[np.int64] = chosen[0][chosen[0] >= 0].astype(np.int64)
    return picked


@dataclass(frozen=True)
class ListCalibration:
    """The calibration of new (folded-in) people's lists and of known users' lists."""

    new_users: Calibration = Calibration(NEW_USER_STRENGTH)
    """For people folded in from a few ratings (``recommend_new_user``, held-out users)."""

    known_users: Calibration = Calibration(KNOWN_USER_STRENGTH)
    """For users the model was trained on (``recommend``, u1-u5 style evaluation)."""

    @classmethod
    def of_strength(cls, strength: Strength) -> ListCalibration:
        """The same strength (other settings default) for both kinds of list."""
        return cls(Calibration(strength), Calibration(strength))
