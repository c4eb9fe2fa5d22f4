"""Explain biased MF, NMF and the movie autoencoder on ml-latest-small for the README.

Fits each model on all of ml-latest-small, writes its full report under ``build/explain/<model>/``
(git-ignored), copies the pictures the README shows into ``docs/images/``, and writes the
genre-coherence table comparing the models to ``docs/coherence.md``.

Run from the repository root (reads the mirror named by ``MATINEE_DATA_MIRROR``, or downloads)::

    .venv/bin/python scripts/make_readme_images.py [--quick]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from matinee.data.loader import load_dataset
from matinee.errors import ConfigError, MatineeError
from matinee.explain.coherence import compare_coherence
from matinee.explain.distributions import most_rated_movies, movie_catalog
from matinee.explain.plots import save_figure
from matinee.explain.plots_data import plot_coherence
from matinee.explain.report import ReportOptions, build_report
from matinee.models.base import Recommender
from matinee.models.registry import model_class
from matinee.settings import Settings

log = logging.getLogger("make_readme_images")

REPO = Path(__file__).resolve().parents[1]
DATASET = "ml-latest-small"
MODELS: dict[str, dict[str, Any]] = {
    "biased-mf": {"n_factors": 20, "epochs": 40},
    "nmf-matrix": {"n_factors": 20},
    "movie-autoencoder": {},
}
"""Model name -> config overrides: 20 factors for MF and NMF, the notebook's 50 sigmoid units for
the autoencoder."""

CONTROL = "random (control)"
"""A row of uniform random vectors (20 dimensions): what no genre structure at all scores."""

README_IMAGES = {
    "biased-mf/biases.png": "biased_mf_biases.png",
    "nmf-matrix/clusters.png": "nmf_clusters_tsne.png",
    "nmf-matrix/factors.png": "nmf_top_movies.png",
}
"""Report picture -> name under docs/images/."""


def _fit(name: str, overrides: dict[str, Any], dataset: Any, quick: bool) -> Recommender[Any]:
    cls = model_class(name)
    fields = set(cls.config_type.field_docs())
    values = {k: v for k, v in overrides.items() if k in fields}
    if quick and "epochs" in fields:
        values["epochs"] = 3
    started = time.perf_counter()
    model = cls(cls.config_type.from_dict(values)).fit(dataset.ratings)
    log.warning("fitted %s in %.1f s", name, time.perf_counter() - started)
    return model


def _markdown(table: pl.DataFrame) -> str:
    def cell(value: object) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * table.width]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.iter_rows()]
    return "\n".join(lines)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    os.chmod(temp, 0o644)
    os.replace(temp, path)


def main() -> int:
    """Fit, explain, copy the README pictures and write the coherence table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 epochs, PCA maps (a smoke run)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    dataset = load_dataset(DATASET, settings=Settings.from_env(show_progress=False))
    options = ReportOptions(map_method="pca" if args.quick else "tsne")
    vectors: dict[str, Any] = {}
    skipped: list[str] = []
    first: Recommender[Any] | None = None
    for name, overrides in MODELS.items():
        try:
            model = _fit(name, overrides, dataset, args.quick)
        except (ConfigError, MatineeError) as error:
            log.warning("skipped %s: %s", name, error)
            skipped.append(f"{name} ({error})")
            continue
        first = first or model
        started = time.perf_counter()
        build_report(model, dataset, REPO / "build" / "explain" / name, options=options)
        log.warning("report of %s in %.1f s", name, time.perf_counter() - started)
        movie_vectors = model.movie_vectors()
        if movie_vectors is not None:
            vectors[name] = movie_vectors
    if first is None or first.movies_ is None:
        log.error("no model could be fitted")
        return 1
    images = REPO / "docs" / "images"
    images.mkdir(parents=True, exist_ok=True)
    for source, target in README_IMAGES.items():
        path = REPO / "build" / "explain" / source
        if path.is_file():
            shutil.copyfile(path, images / target)
    catalog = movie_catalog(first.movies_, dataset.movies, dataset.ratings)
    control = np.random.default_rng(0).uniform(size=(catalog.height, 20))
    vectors[CONTROL] = control
    candidates = most_rated_movies(catalog, options.candidates)
    table = compare_coherence(
        vectors, catalog, n=options.top_n, candidates=candidates, clusters=10, draws=50
    )
    figure = plot_coherence(table, title=f"Genre coherence on {DATASET}")
    save_figure(figure, images / "coherence.png")
    _write_text(REPO / "docs" / "coherence.md", _coherence_page(table, skipped, args.quick))
    sys.stdout.write(_markdown(table) + "\n")
    return 0


def _settings_text(overrides: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in overrides.items()) or "defaults"


def _coherence_page(table: pl.DataFrame, skipped: list[str], quick: bool) -> str:
    models = ", ".join(
        f"`{name}` ({_settings_text(MODELS[name])})"
        for name in table["model"].unique(maintain_order=True)
        if name in MODELS
    )
    note = (
        f"\n\nNot compared (not available when this was run): {'; '.join(skipped)}."
        if skipped
        else ""
    )
    mode = " --quick" if quick else ""
    return f"""# Genre coherence of learned movie vectors on {DATASET}

Made by `.venv/bin/python scripts/make_readme_images.py{mode}`: each model fitted on all of
{DATASET}; models: {models}.

For every unit (a factor, NMF feature or autoencoder node; each end of a signed factor counts as a
unit; or one of 10 k-means clusters, described by its 10 movies nearest the centre) we take its
top-10 movies among the 2,000 most rated and measure **purity**: the share of them carrying their
most common genre. **baseline** is the same for random sets of the same sizes from the same 2,000
movies (50 draws); **lift** = purity / baseline; **z** = (purity - baseline) / the spread of the
baseline across draws. **distinct_movies** is the share of top-list slots whose movie no other unit
lists (1.0 by construction for clusters, which are disjoint), and **distinct_genres** how many
different dominant genres the units have: together they say how well the units separate movies.
The `{CONTROL}` row scores uniform random vectors the same way: lift near 1 and |z| below 2
is what "no genre structure" looks like.

{_markdown(table)}{note}
"""


if __name__ == "__main__":
    raise SystemExit(main())
