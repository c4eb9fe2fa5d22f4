from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse.linalg as spla

from matinee.data.dataset import Dataset
from matinee.data.loader import load_dataset
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, NotFittedError
from matinee.explain.factors import viewer_weights
from matinee.explain.report import REPORT_MARKER, ReportOptions, build_report
from matinee.models.base import Recommender
from matinee.models.config import Config
from matinee.models.factorization.mf import BiasedMF, BiasedMFConfig
from matinee.settings import Settings
from matinee.training.loop import EpochRecord, FitOptions
from matinee.types import IndexArray, RatingArray

FAST = ReportOptions(
    candidates=300, map_movies=120, map_method="pca", clusters=4, coherence_draws=3, top_n=5
)


class SvdMovies(Recommender[Config]):
    """Test-only model: truncated SVD of the centred ratings; users' vectors are viewer weights."""

    name = "svd-test"
    config_type = Config

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        matrix = train.user_movie_matrix().astype(np.float64)
        users, strengths, movies_t = spla.svds(matrix, k=6, random_state=0)
        self.user_vectors = users * np.sqrt(strengths)
        self.movie_vecs = movies_t.T * np.sqrt(strengths)
        return []

    def _predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.floating[Any]]:
        return np.sum(self.user_vectors[users] * self.movie_vecs[movies], axis=1)

    def _score_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        return self.movie_vecs @ self.movie_vecs[movies].T @ ratings

    def _parameters(self) -> dict[str, np.ndarray]:
        return {"user_vectors": self.user_vectors, "movie_vectors": self.movie_vecs}

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        self.user_vectors, self.movie_vecs = params["user_vectors"], params["movie_vectors"]

    def movie_vectors(self) -> npt.NDArray[np.floating[Any]] | None:
        return self.movie_vecs

    def viewer_weights(self) -> npt.NDArray[np.floating[Any]]:
        return self.user_vectors


@pytest.fixture(scope="module")
def small(settings: Settings) -> Dataset:
    return load_dataset("ml-latest-small", settings=settings)


def _section_titles(page: str) -> list[str]:
    return re.findall(r"<h2 id='s\d+'>([^<]+)</h2>", page)


@pytest.mark.slow
def test_report_of_biased_mf(small: Dataset, tmp_path: Path) -> None:
    model = BiasedMF(BiasedMFConfig(epochs=2, n_factors=6)).fit(small.ratings)
    index = build_report(model, small, tmp_path / "report", options=FAST)
    assert index == tmp_path / "report" / "index.html"
    page = index.read_text(encoding="utf-8")
    assert _section_titles(page) == [
        "Training curves", "Movie biases", "Top movies per factor", "PCA components",
        "Clusters", "Genre coherence", "Ratings",
    ]  # fmt: skip
    assert "Viewers per node</b>: biased-mf exposes no viewer x node weights" in page
    assert page.count("src='data:image/png;base64,") == 11
    assert "Shawshank Redemption" in page or "Forrest Gump" in page
    assert "<td>None</td>" not in page  # nulls (no validation loss) are blank
    pngs = sorted(p.name for p in index.parent.glob("*.png"))
    assert len(pngs) == 11 and all((index.parent / p).stat().st_size > 5_000 for p in pngs)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # staging removed


class Blank(SvdMovies):
    """Test-only model with nothing to explain but its ids."""

    name = "blank-test"

    def movie_vectors(self) -> npt.NDArray[np.floating[Any]] | None:
        return None

    def viewer_weights(self) -> None:  # type: ignore[override]
        return None


def test_report_without_dataset_biases_or_history(small: Dataset, tmp_path: Path) -> None:
    model = SvdMovies().fit(small.ratings)
    movies = small.movies.with_columns(genres=[])
    index = build_report(model, None, tmp_path / "r", movies=movies, options=FAST)
    page = index.read_text(encoding="utf-8")
    assert _section_titles(page) == [
        "Top movies per factor", "PCA components", "Clusters", "Viewers per node",
    ]  # fmt: skip
    assert "Toy Story" in page
    assert "data: no dataset (ids only)" in page
    assert "svd-test is not trained epoch by epoch" in page
    assert "svd-test learns no movie biases" in page
    assert "no movie genres are known" in page
    assert "no ratings were given" in page
    assert (index.parent / "viewers.png").stat().st_size > 5_000


def test_report_folder_safety(small: Dataset, tmp_path: Path) -> None:
    model = Blank().fit(small.ratings)
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(ConfigError, match="refusing"):
        build_report(model, None, foreign, options=FAST)
    assert (foreign / "thesis.tex").read_text() == "precious"
    target = tmp_path / "report"
    page = build_report(model, None, target, options=FAST).read_text(encoding="utf-8")
    assert _section_titles(page) == []
    assert page.count("<li><b>") == 8
    assert (target / REPORT_MARKER).is_file()
    (target / "old.png").write_bytes(b"x")
    build_report(model, None, target, options=FAST)  # a report may replace a report
    assert not (target / "old.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "report"]
    with pytest.raises(NotFittedError):
        build_report(SvdMovies(), None, tmp_path / "x")
    with pytest.raises(ConfigError):
        build_report("model", None, tmp_path / "x")  # type: ignore[arg-type]
    file_target = tmp_path / "file"
    file_target.write_text("")
    with pytest.raises(ConfigError, match="not a directory"):
        build_report(model, None, file_target)


def test_report_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="top_n"):
        ReportOptions(top_n=0)
    with pytest.raises(ConfigError, match="map_method"):
        ReportOptions(map_method="mds")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="coherence_draws"):
        ReportOptions(coherence_draws=1)


class ParameterWeights(SvdMovies):
    """Test-only model exposing its viewer weights as a (transposed) parameter instead."""

    viewer_weights = None  # type: ignore[assignment]

    def _parameters(self) -> dict[str, np.ndarray]:
        return {**super()._parameters(), "viewer_weights": self.user_vectors.T}


def test_viewer_weights_from_a_parameter(small: Dataset) -> None:
    model = ParameterWeights().fit(small.ratings)
    weights = viewer_weights(model)
    assert weights is not None
    np.testing.assert_allclose(weights, model.user_vectors)
    assert (
        viewer_weights(BiasedMF(BiasedMFConfig(epochs=1, n_factors=2)).fit(small.ratings)) is None
    )


@pytest.mark.slow
def test_viewer_weights_of_the_movie_autoencoder(tiny: Ratings) -> None:
    pytest.importorskip("torch")
    from matinee.models.neural.movie_autoencoder import MovieAutoencoder, MovieAutoencoderConfig

    config = MovieAutoencoderConfig(epochs=1, n_factors=3, patience=None, validation_fraction=0.0)
    model = MovieAutoencoder(config).fit(tiny)
    weights = viewer_weights(model)
    assert weights is not None
    assert weights.shape == (tiny.n_users, 3)
    np.testing.assert_allclose(weights, model.parameters()["net.encoder.weight"], rtol=1e-6)
