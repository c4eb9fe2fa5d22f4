"""How close the synthetic generator is to real MovieLens: a table, real beside synthetic.

Run ``python benchmarks/synthetic_shape.py [--ratings N] [--seed S]`` with ``MATINEE_DATA_MIRROR``
set. Columns:

* ml-25m as published: its rating histogram (GroupLens) and item Gini (the LensKit codex,
  https://codex.lenskit.org/movielens/ML25M/description.html);
* ``generate_ratings(N)`` at ml-25m's sizes (default N = 25,000,095) with the ``movies.csv`` that
  ``write_synthetic_release`` writes beside it;
* ml-latest-small (the genuine 2018 release in the mirror: 610 random users of ml-latest, each with
  at least 20 ratings) beside the same draw from the synthetic set: its ratings by 610 random users;
* ml-100k (the mirror's 1998 release), for reference: a denser, older catalogue.

Writes ``results/synthetic_shape.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from _measure import write_results

GENRES_SHOWN = ("Drama", "Comedy", "Action", "Thriller", "Sci-Fi", "Horror", "IMAX", "Western")
SAMPLE_USERS = 610
PUBLISHED_GINI = 0.942
COLUMNS = ("synthetic", "ml-latest-small", "synthetic, 610 users", "ml-100k")


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of ratings per rated movie (0: all equal; 1: one movie has them all)."""
    ordered = np.sort(counts.astype(np.float64))
    rank = np.arange(1, ordered.size + 1)
    return float((2 * rank - ordered.size - 1) @ ordered / (ordered.size * ordered.sum()))


def shape(ratings: pl.DataFrame, movies: pl.DataFrame) -> dict[str, float]:
    """Rating histogram, genre shares of ratings, user activity and movie popularity figures."""
    total = ratings.height
    figures: dict[str, float] = {}
    for level in np.arange(1, 11) / 2:
        figures[f"rating {level:g}"] = (
            100 * ratings.filter(pl.col("rating") == level).height / total
        )
    genres = movies.with_columns(pl.col("genres").str.split("|")).explode("genres")
    per_movie = ratings.group_by("movieId").len()
    on_genre = per_movie.join(genres, on="movieId").group_by("genres").agg(pl.col("len").sum())
    counts = dict(on_genre.iter_rows())
    for genre in GENRES_SHOWN:
        figures[f"ratings on {genre} (%)"] = 100 * counts.get(genre, 0) / total
    users = np.sort(ratings.group_by("userId").len()["len"].to_numpy())[::-1]
    rated = np.sort(per_movie["len"].to_numpy())[::-1]
    figures["user ratings: min"] = float(users.min())
    figures["user ratings: mean / median"] = float(users.mean() / np.median(users))
    figures["top 10% users' share (%)"] = 100 * users[: users.size // 10].sum() / total
    figures["movies rated (% of movies.csv)"] = 100 * rated.size / movies.height
    figures["item Gini (rated movies)"] = gini(rated)
    figures["top 10% movies' share (%)"] = 100 * rated[: rated.size // 10].sum() / total
    figures["top movie's share (%)"] = 100 * rated[0] / total
    figures["median ratings per movie"] = float(np.median(rated))
    figures["movies rated < 10 times (%)"] = 100 * float(np.mean(rated < 10))
    figures["movies rated once (%)"] = 100 * float(np.mean(rated == 1))
    figures["mean rating"] = float(ratings["rating"].mean())  # type: ignore[arg-type]
    return figures


def real_shapes(mirror: Path) -> dict[str, dict[str, float]]:
    """The figures of ml-latest-small (from the mirror's zip) and of ml-100k."""
    with zipfile.ZipFile(mirror / "ml-latest-small.zip") as archive:
        ratings = pl.read_csv(archive.read("ml-latest-small/ratings.csv"))
        movies = pl.read_csv(archive.read("ml-latest-small/movies.csv"))
    from matinee.data.loader import read_local

    older = read_local(mirror / "ml-100k")
    listed = older.movies.select(
        pl.col("movie_id").alias("movieId"), pl.col("genres").list.join("|")
    )
    return {
        "ml-latest-small": shape(ratings, movies),
        "ml-100k": shape(_frame(older.ratings.to_polars()), listed),
    }


def _frame(ratings: pl.DataFrame) -> pl.DataFrame:
    """``Ratings.to_polars()`` with the column names of the CSV releases."""
    return ratings.select(
        pl.col("user_id").alias("userId"), pl.col("movie_id").alias("movieId"), "rating"
    )


def synthetic_shapes(n_ratings: int, seed: int) -> dict[str, dict[str, float]]:
    """The figures of ``generate_ratings(n_ratings)`` and of 610 of its users drawn at random."""
    from matinee.data.synthetic import generate_ratings, synthetic_movies

    ratings = generate_ratings(n_ratings, seed=seed)
    movies = synthetic_movies(ratings, seed=seed)
    frame = _frame(ratings.to_polars())
    chosen = np.random.default_rng(seed).choice(ratings.n_users, SAMPLE_USERS, replace=False) + 1
    sample = frame.filter(pl.col("userId").is_in(chosen.tolist()))
    sample_movies = movies.filter(pl.col("movieId").is_in(sample["movieId"].unique().implode()))
    return {
        "synthetic": shape(frame, movies),
        "synthetic, 610 users": shape(sample, sample_movies),
    }


def markdown(report: dict[str, Any]) -> str:
    """The table: figure, ml-25m (published), then the columns of :data:`COLUMNS`."""
    from matinee.data._synthetic_shape import RATING_SHARES

    header = ["figure", "ml-25m (published)", f"synthetic {report['ratings']:,}", *COLUMNS[1:]]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for index, name in enumerate(report["shapes"]["synthetic"]):
        published = f"{100 * RATING_SHARES[index]:.1f}" if index < RATING_SHARES.size else ""
        if name.startswith("item Gini"):
            published = f"{PUBLISHED_GINI:.3f}"
        digits = 3 if name.startswith("item Gini") else 2
        cells = [f"{report['shapes'][column][name]:.{digits}f}" for column in COLUMNS]
        lines.append(f"| {name} | {published} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Measure every column and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=25_000_095)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    mirror = Path(os.environ["MATINEE_DATA_MIRROR"])
    shapes = real_shapes(mirror) | synthetic_shapes(args.ratings, args.seed)
    report = {"ratings": args.ratings, "seed": args.seed, "shapes": shapes}
    write_results("synthetic_shape", report, markdown(report))


if __name__ == "__main__":
    main()
