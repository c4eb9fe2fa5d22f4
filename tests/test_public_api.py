"""The public surface: what `import matinee` exports, and that it stays light."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys

import pytest

import matinee

HELPERS = {"annotations", "importlib", "sys", "TYPE_CHECKING", "Any"}
"""Names the lazy ``matinee/__init__.py`` itself needs, not part of the API."""


def test_all_matches_the_public_names() -> None:
    public = {name for name in dir(matinee) if not name.startswith("_")} - HELPERS
    modules = {name for name in public if type(getattr(matinee, name)).__name__ == "module"}
    assert set(matinee.__all__) - {"__version__"} == public - modules
    for name in matinee.__all__:
        assert getattr(matinee, name) is not None


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = matinee.nope  # type: ignore[attr-defined]


def test_import_is_light_and_changes_no_setting() -> None:
    code = (
        "import os, sys; os.environ.pop('GOMP_SPINCOUNT', None); import matinee; "
        "print(sorted(m for m in ('numpy', 'polars', 'numba', 'rich') if m in sys.modules), "
        "os.environ.get('GOMP_SPINCOUNT'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] None"


def test_parallel_kernels_set_the_spin_count_unless_the_environment_does() -> None:
    code = (
        "import os; import matinee.models.factorization._sgd; print(os.environ['GOMP_SPINCOUNT'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert run.stdout.strip() == "1000"
    env["GOMP_SPINCOUNT"] = "7"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert run.stdout.strip() == "7"


def test_every_module_all_names_exist() -> None:
    for info in pkgutil.walk_packages(matinee.__path__, "matinee."):
        if info.name == "matinee.__main__" or info.name.startswith(
            ("matinee.models.", "matinee.cli", "matinee.serve")
        ):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            assert hasattr(module, name), f"{info.name}.__all__ lists missing {name}"


def test_import_loads_no_torch_or_plotting() -> None:
    code = (
        "import sys, matinee; "
        "print(sorted(m for m in ('torch', 'matplotlib', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
