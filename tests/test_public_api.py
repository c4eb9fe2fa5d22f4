"""The public surface: what `import matinee` exports, and that it stays light."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import matinee


def test_all_matches_the_public_names() -> None:
    public = {name for name in vars(matinee) if not name.startswith("_")} - {"annotations"}
    modules = {name for name in public if type(getattr(matinee, name)).__name__ == "module"}
    assert set(matinee.__all__) - {"__version__"} == public - modules


def test_every_module_all_names_exist() -> None:
    for info in pkgutil.walk_packages(matinee.__path__, "matinee."):
        if info.name.startswith(("matinee.models.", "matinee.cli", "matinee.serve")):
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
