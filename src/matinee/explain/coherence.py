"""Genre coherence: how well factors, nodes or clusters line up with movie genres, as a number.

**Measure.** A *unit* (a factor, an autoencoder node, a cluster) is described by its top movies.
Its *genre purity* is the share of those movies that carry the genre most common among them:
1.0 when all ten top movies of a factor are comedies, about 0.3-0.5 for ten random movies (Drama
alone covers ~40% of MovieLens). Purity was preferred over mean pairwise genre Jaccard because it
reads directly ("7 of 10 are dramas"), is not diluted by movies that list many genres, and names
the genre (the unit's *dominant genre*).

**Baseline.** Purity depends on set size and genre frequencies, so it is compared with random
sets of the same sizes drawn from the same candidate movies, over several seeds: ``lift`` is
purity / baseline and ``z`` is (purity - baseline) / the baseline's spread across draws.

**Separation.** A model can score high purity by describing every unit with the same popular
dramas. ``distinct_movies`` (share of top-list slots holding a movie no other unit lists) and
``distinct_genres`` (how many different dominant genres the units have) measure how well the
units tell movies apart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from matinee.errors import ConfigError, DataError
from matinee.explain.distributions import check_catalog, check_rows, check_vectors
from matinee.explain.factors import top_movie_indices
from matinee.types import FloatArray, IndexArray

__all__ = [
    "COMPARISON_COLUMNS",
    "Coherence",
    "cluster_units",
    "coherence",
    "compare_coherence",
    "factor_units",
    "genre_purity",
]

COMPARISON_COLUMNS = (
    "model",
    "kind",
    "units",
    "purity",
    "baseline",
    "lift",
    "z",
    "distinct_movies",
    "distinct_genres",
)
"""Columns of :func:`compare_coherence`."""


def genre_purity(genre_lists: Sequence[Sequence[str]]) -> tuple[float, str]:
    """Share of the movies that carry their most common genre, and that genre.

    Movies without genres count as not matching. An empty set has purity 0 and genre "".
    """
    if not genre_lists:
        return 0.0, ""
    counts: Counter[str] = Counter(g for genres in genre_lists for g in set(genres))
    if not counts:
        return 0.0, ""
    genre, count = min(counts.items(), key=lambda item: (-item[1], item[0]))
    return count / len(genre_lists), genre


@dataclass(frozen=True)
class Coherence:
    """Genre coherence of a set of units against a shuffled baseline."""

    unit_purity: FloatArray
    """Purity of each unit's movies."""
    dominant_genres: tuple[str, ...]
    """Each unit's most common genre."""
    purity: float
    """Mean purity over units."""
    baseline: float
    """Mean purity of random movie sets of the same sizes (mean over draws)."""
    baseline_std: float
    """Spread (standard deviation) of the baseline's mean purity across draws."""
    distinct_movies: float
    """Share of top-list slots whose movie appears in no other unit's list."""

    @property
    def lift(self) -> float:
        """Purity over baseline: 1.0 means no better than random movies."""
        return self.purity / self.baseline if self.baseline > 0 else float("nan")

    @property
    def z(self) -> float:
        """How many baseline spreads the purity lies above the baseline."""
        spread = self.baseline_std
        return (self.purity - self.baseline) / spread if spread > 0 else float("nan")

    @property
    def distinct_genres(self) -> int:
        """How many different dominant genres the units have."""
        return len({g for g in self.dominant_genres if g})


def coherence(
    units: Sequence[npt.ArrayLike],
    catalog: pl.DataFrame,
    *,
    pool: npt.ArrayLike | None = None,
    draws: int = 20,
    seed: int = 0,
) -> Coherence:
    """Genre coherence of ``units`` (each a list of movie indices) against random sets.

    Args:
        units: Movie indices describing each unit (for example its top-10 movies).
        catalog: The model's catalogue (genres are read from it).
        pool: Movie indices the random sets are drawn from: the same candidates the units were
            chosen from (all movies if None).
        draws: Random draws (seeds) for the baseline; at least 2 to measure its spread.
        seed: Seed of the first draw.
    """
    if not units:
        raise DataError("coherence needs at least one unit")
    if draws < 2:
        raise ConfigError(f"draws must be >= 2, got {draws}")
    sets = [check_rows(catalog.height, unit) for unit in units]
    candidates = check_rows(catalog.height, pool)
    largest = max(s.size for s in sets)
    if largest > candidates.size:
        raise ConfigError(
            f"a unit of {largest} movies is larger than the pool of {candidates.size}"
        )
    genres = catalog["genres"].to_list()
    scored = [genre_purity([genres[i] for i in s]) for s in sets]
    sizes = [s.size for s in sets]
    baseline_means = _baseline_means(genres, candidates, sizes, draws, seed)
    slots = np.concatenate(sets)
    repeats = Counter(int(i) for s in sets for i in s.tolist())
    unique = sum(1 for i in slots.tolist() if repeats[int(i)] == 1)
    return Coherence(
        unit_purity=np.array([p for p, _ in scored]),
        dominant_genres=tuple(g for _, g in scored),
        purity=float(np.mean([p for p, _ in scored])),
        baseline=float(baseline_means.mean()),
        baseline_std=float(baseline_means.std(ddof=1)),
        distinct_movies=unique / slots.size if slots.size else 0.0,
    )


def _baseline_means(
    genres: list[list[str]], pool: IndexArray, sizes: list[int], draws: int, seed: int
) -> FloatArray:
    """Mean purity of random sets of ``sizes`` movies from ``pool``, once per draw."""
    rng = np.random.default_rng(seed)
    means = []
    for _ in range(draws):
        picks = [rng.choice(pool, size, replace=False) for size in sizes]
        means.append(np.mean([genre_purity([genres[i] for i in pick])[0] for pick in picks]))
    return np.asarray(means, dtype=np.float64)


def factor_units(
    vectors: npt.ArrayLike,
    *,
    n: int = 10,
    candidates: npt.ArrayLike | None = None,
    both_ends: bool | None = None,
) -> list[IndexArray]:
    """Top-``n`` movie lists of each dimension of the movie vectors.

    The sign of an MF factor is arbitrary, so for signed vectors (``both_ends`` None and some
    value negative) each end of a dimension is its own unit; non-negative vectors (NMF, ReLU
    nodes) give one unit per dimension.
    """
    matrix = check_vectors(vectors)
    signed = bool(np.any(matrix < 0)) if both_ends is None else both_ends
    units = top_movie_indices(matrix, n=n, candidates=candidates)
    if signed:
        units += top_movie_indices(matrix, n=n, candidates=candidates, lowest=True)
    return units


def cluster_units(
    vectors: npt.ArrayLike,
    *,
    k: int = 10,
    n: int = 10,
    candidates: npt.ArrayLike | None = None,
    seed: int = 0,
) -> list[IndexArray]:
    """For each k-means cluster of the candidates, the ``n`` movies nearest to its centre."""
    from sklearn.cluster import KMeans

    matrix = check_vectors(vectors)
    rows = check_rows(matrix.shape[0], candidates)
    if not 1 <= k <= rows.size:
        raise ConfigError(f"k must lie in 1..{rows.size}, got {k}")
    kmeans = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(matrix[rows])
    labels = np.asarray(kmeans.labels_)
    centres = np.asarray(kmeans.cluster_centers_)
    distance = np.linalg.norm(matrix[rows] - centres[labels], axis=1)
    units = []
    for cluster in range(k):
        members = np.flatnonzero(labels == cluster)
        nearest = members[np.argsort(distance[members], kind="stable")[:n]]
        units.append(rows[nearest].astype(np.int32))
    return units


def compare_coherence(
    vectors_by_model: Mapping[str, npt.ArrayLike],
    catalog: pl.DataFrame,
    *,
    n: int = 10,
    candidates: npt.ArrayLike | None = None,
    clusters: int | None = 10,
    draws: int = 20,
    seed: int = 0,
) -> pl.DataFrame:
    """One table comparing the genre coherence of several models' movie vectors.

    Each model gets a ``factors`` row (its dimensions' top-``n`` movies) and, when ``clusters``
    is set, a ``clusters`` row (k-means with that many clusters). All models must share the
    catalogue (trained on the same movies); baselines use the same seeds for every model.

    Returns:
        A frame with columns :data:`COMPARISON_COLUMNS`.
    """
    if not vectors_by_model:
        raise DataError("compare_coherence needs at least one model")
    rows = []
    for name, vectors in vectors_by_model.items():
        matrix = check_vectors(vectors, f"movie vectors of {name!r}")
        check_catalog(catalog, matrix.shape[0], f"the movie vectors of {name!r}")
        kinds = {"factors": factor_units(matrix, n=n, candidates=candidates)}
        if clusters is not None:
            kinds["clusters"] = cluster_units(
                matrix, k=clusters, n=n, candidates=candidates, seed=seed
            )
        for kind, units in kinds.items():
            result = coherence(units, catalog, pool=candidates, draws=draws, seed=seed)
            rows.append(
                {
                    "model": name,
                    "kind": kind,
                    "units": len(units),
                    "purity": result.purity,
                    "baseline": result.baseline,
                    "lift": result.lift,
                    "z": result.z,
                    "distinct_movies": result.distinct_movies,
                    "distinct_genres": result.distinct_genres,
                }
            )
    return pl.DataFrame(rows).select(COMPARISON_COLUMNS)
