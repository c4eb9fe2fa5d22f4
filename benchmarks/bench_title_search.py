"""Title search on the 62,423 titles of ml-25m's movies.csv: time per query, best of repeats.

Compares the service catalog (titles normalised once; rapidfuzz for typos) with the per-call
scan of ``matinee.recommend.find_movies`` and with ``difflib`` as the fuzzy matcher, and
prints JSON then a Markdown table. Times are medians of several runs of each query.

    python benchmarks/bench_title_search.py [path/to/movies.csv] [--out results/title-search]
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from matinee.recommend import find_movies
from matinee.service.catalog import MovieCatalog, title_key, without_article

DEFAULT = (
    Path(os.environ.get("MATINEE_DATA_MIRROR", "../shared/data")) / "samples/ml-25m/movies.csv"
)

QUERIES = {
    "exact": "Toy Story",
    "exact with year": "Heat (1995)",
    "prefix": "star wars",
    "words": "lord of the rings",
    "substring": "ingdom",
    "fuzzy (typo)": "shawshank redemtion",
    "fuzzy (typo, short)": "godfathr",
}


def read_movies(path: Path) -> pl.DataFrame:
    """movies.csv as ``movie_id, title, year, genres`` (genres a list)."""
    raw = pl.read_csv(path, schema={"movieId": pl.Int64, "title": pl.Utf8, "genres": pl.Utf8})
    return raw.select(
        pl.col("movieId").alias("movie_id"),
        pl.col("title").str.strip_chars(),
        pl.col("title").str.extract(r"\((\d{4})\)\s*$").cast(pl.Int64).alias("year"),
        pl.col("genres").str.split("|"),
    )


def timed(call: Callable[[], Any], repeats: int) -> float:
    """Median seconds of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def difflib_search(keys: list[str], query: str) -> list[str]:
    """The fuzzy step done with the standard library, for comparison."""
    return difflib.get_close_matches(without_article(title_key(query)), keys, n=10, cutoff=0.8)


def run(path: Path, repeats: int) -> dict[str, Any]:
    """Measure every query with each method (counts from ``ratings.csv`` beside it, if any)."""
    movies = read_movies(path)
    ids = np.sort(movies["movie_id"].to_numpy())
    counts = np.zeros(ids.size, dtype=np.int64)
    ratings_csv = path.with_name("ratings.csv")
    if ratings_csv.is_file():  # rating counts order equally good matches, as in a bundle
        rated = pl.read_csv(ratings_csv, columns=["movieId"])["movieId"].value_counts()
        pos = np.searchsorted(ids, rated["movieId"].to_numpy())
        counts[pos] = rated["count"].to_numpy()
    started = time.perf_counter()
    catalog = MovieCatalog(ids, movies, counts)
    build = time.perf_counter() - started
    keys = [catalog.fuzzy_key(i) for i in range(len(catalog))]
    rows = []
    for kind, query in QUERIES.items():
        first = catalog.search(query, limit=10)
        row = {
            "query": kind,
            "text": query,
            "top": catalog.infos[first[0].index].title if first else None,
            "catalog_ms": 1000 * timed(lambda q=query: catalog.search(q, limit=10), repeats),
            "find_movies_ms": 1000 * timed(lambda q=query: find_movies(movies, q), 2),
        }
        if kind.startswith("fuzzy"):
            row["difflib_ms"] = 1000 * timed(lambda q=query: difflib_search(keys, q), 2)
        rows.append(row)
    return {"titles": movies.height, "build_seconds": build, "queries": rows}


def markdown(result: dict[str, Any]) -> str:
    """The result as a Markdown table."""
    lines = [
        f"Title search over {result['titles']:,} titles (catalog built once in "
        f"{result['build_seconds']:.2f} s); median ms per query. Busy shared machine.",
        "",
        "| query | text | top match | catalog | find_movies scan | difflib fuzzy |",
        "|---|---|---|---:|---:|---:|",
    ]
    for row in result["queries"]:
        diff = f"{row['difflib_ms']:.1f}" if "difflib_ms" in row else ""
        lines.append(
            f"| {row['query']} | {row['text']} | {row['top']} | {row['catalog_ms']:.2f} | "
            f"{row['find_movies_ms']:.1f} | {diff} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run, print JSON and Markdown, optionally write both next to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("movies", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = run(args.movies, args.repeats)
    print(json.dumps(result, indent=2))
    print(markdown(result))
    if args.out is not None:
        args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
        args.out.with_suffix(".md").write_text(markdown(result))


if __name__ == "__main__":
    main()
