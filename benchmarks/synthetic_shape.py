"""How close the synthetic generator is to real MovieLens: a table, real beside synthetic.

Run ``python benchmarks/synthetic_shape.py [--ratings N]`` with ``MATINEE_DATA_MIRROR`` set. The
real side is ml-latest-small (the genuine 2018 release in the mirror) and ml-25m's published
rating histogram; the synthetic side is ``write_synthetic_release`` at ``N`` ratings (default
1,000,000), read back from its CSV files. Writes ``results/synthetic_shape.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

RESULTS = Path(__file__).resolve().parent / "results"
GENRES_SHOWN = ("Drama", "Comedy", "Action", "Thriller", "Sci-Fi", "Horror", "IMAX", "Western")


def shape(ratings: pl.DataFrame, movies: pl.DataFrame) -> dict[str, float]:
    """Rating histogram, genre shares of ratings, user activity and movie popularity figures."""
    total = ratings.height
    figures: dict[str, float] = {}
    for level in np.arange(1, 11) / 2:
        figures[f"rating {level:g}"] = (
            100 * ratings.filter(pl.col("rating") == level).height / total
        )
    genres = movies.with_columns(pl.col("genres").str.split("|")).explode("genres")
    counts = dict(ratings.join(genres, on="movieId")["genres"].value_counts().iter_rows())
    for genre in GENRES_SHOWN:
        figures[f"ratings on {genre} (%)"] = 100 * counts.get(genre, 0) / total
    users = np.sort(ratings.group_by("userId").len()["len"].to_numpy())[::-1]
    rated = np.sort(ratings.group_by("movieId").len()["len"].to_numpy())[::-1]
    figures["user ratings: min"] = float(users.min())
    figures["user ratings: mean / median"] = float(users.mean() / np.median(users))
    figures["top 10% users' share (%)"] = 100 * users[: users.size // 10].sum() / total
    figures["top 10% movies' share (%)"] = 100 * rated[: rated.size // 10].sum() / total
    figures["top movie's share (%)"] = 100 * rated[0] / total
    figures["movies rated once (%)"] = 100 * float(np.mean(rated == 1))
    figures["mean rating"] = float(ratings["rating"].mean())  # type: ignore[arg-type]
    return figures


def real_shape(mirror: Path) -> dict[str, float]:
    """The figures of ml-latest-small, read from the mirror's zip."""
    with zipfile.ZipFile(mirror / "ml-latest-small.zip") as archive:
        ratings = pl.read_csv(archive.read("ml-latest-small/ratings.csv"))
        movies = pl.read_csv(archive.read("ml-latest-small/movies.csv"))
    return shape(ratings, movies)


def synthetic_shape(n_ratings: int) -> dict[str, float]:
    """The figures of a synthetic release of ``n_ratings``."""
    from matinee.data.synthetic import write_synthetic_release

    with tempfile.TemporaryDirectory() as folder:
        write_synthetic_release(Path(folder), n_ratings, seed=0)
        return shape(
            pl.read_csv(Path(folder) / "ratings.csv"), pl.read_csv(Path(folder) / "movies.csv")
        )


def markdown(report: dict[str, Any]) -> str:
    """The table: figure, ml-25m (published, histogram only), ml-latest-small, synthetic."""
    from matinee.data._synthetic_shape import RATING_SHARES

    lines = [
        f"| figure | ml-25m (published) | ml-latest-small | synthetic {report['ratings']:,} |",
        "|---|---:|---:|---:|",
    ]
    for index, (name, real) in enumerate(report["real"].items()):
        published = f"{100 * RATING_SHARES[index]:.1f}" if index < RATING_SHARES.size else ""
        lines.append(f"| {name} | {published} | {real:.2f} | {report['synthetic'][name]:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Measure both sides and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=1_000_000)
    args = parser.parse_args()
    mirror = Path(os.environ["MATINEE_DATA_MIRROR"])
    report = {"ratings": args.ratings, "real": real_shape(mirror)}
    report["synthetic"] = synthetic_shape(args.ratings)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "synthetic_shape.json").write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    (RESULTS / "synthetic_shape.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
