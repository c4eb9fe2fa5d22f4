from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import matinee.cli.explain  # noqa: F401  (registers the command)
from matinee.cli.app import app
from matinee.data.dataset import Dataset
from matinee.data.loader import load_dataset
from matinee.models.factorization.mf import BiasedMF, BiasedMFConfig
from matinee.settings import Settings
from matinee.store.files import save_model


@pytest.fixture(scope="module")
def saved(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Dataset]:
    dataset = load_dataset("ml-latest-small", settings=settings)
    model = BiasedMF(BiasedMFConfig(epochs=1, n_factors=4)).fit(dataset.ratings)
    folder = tmp_path_factory.mktemp("model") / "mf"
    save_model(model, folder, movies=dataset.movies, extra={"dataset": "ml-latest-small"})
    return folder, dataset


@pytest.mark.slow
def test_explain_writes_a_report_with_the_manifest_dataset(
    saved: tuple[Path, Dataset], settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MATINEE_DATA_MIRROR", str(settings.mirror))
    monkeypatch.setenv("MATINEE_CACHE_DIR", str(settings.cache_dir))
    folder, _ = saved
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["explain", str(folder), "--out", str(out), "--map", "pca"])
    assert result.exit_code == 0, result.output
    assert "index.html" in result.output
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "data: ml-latest-small" in page
    assert "Toy Story" in page
    assert "Ratings</h2>" in page


def test_explain_errors_have_exit_codes(saved: tuple[Path, Dataset], tmp_path: Path) -> None:
    folder, _ = saved
    runner = CliRunner()
    missing = runner.invoke(app, ["explain", str(tmp_path / "nothing"), "--out", str(tmp_path)])
    assert missing.exit_code == 6  # ModelFormatError
    bad_map = runner.invoke(app, ["explain", str(folder), "--map", "mds"])
    assert bad_map.exit_code == 2
    assert "--map must be one of" in bad_map.output
    unknown = runner.invoke(app, ["explain", str(folder), "--dataset", "ml-nope"])
    assert unknown.exit_code == 3
