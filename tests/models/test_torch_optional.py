"""torch is optional: Matinee works without it and says how to install the neural models."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch

from matinee.errors import ConfigError
from matinee.models.neural._torch import pick_device

NEURAL = ("autorec", "embedding-net", "movie-autoencoder")


def _run_without_torch(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter where ``import torch`` fails."""
    prelude = "import sys\nsys.modules['torch'] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_matinee_imports_and_fits_without_torch() -> None:
    result = _run_without_torch(
        """
        import matinee, matinee.models.registry, matinee.evaluation.evaluate, matinee.store.files
        from matinee.data.ratings import Ratings
        from matinee.models.registry import model_class
        ratings = Ratings.from_raw([1, 1, 2, 2], [1, 2, 1, 3], [4.0, 3.0, 5.0, 2.0])
        model_class("baseline")().fit(ratings)
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("name", NEURAL)
def test_neural_models_without_torch_say_how_to_install_it(name: str) -> None:
    result = _run_without_torch(
        f"""
        from matinee.errors import MatineeError
        from matinee.models.registry import model_class
        try:
            model_class({name!r})
        except MatineeError as error:
            print(error)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'matinee[neural]'" in result.stdout
    assert name in result.stdout


def test_importing_matinee_does_not_import_torch() -> None:
    code = (
        "import sys, matinee, matinee.models.registry, matinee.models.base\n"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_device_choice_follows_cuda_availability() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device(None).type == expected
    assert pick_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA"):
            pick_device("cuda")
    with pytest.raises(ConfigError, match="tpu"):
        pick_device("tpu")
