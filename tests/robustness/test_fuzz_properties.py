"""Item 12.5: Hypothesis properties over readers, split specs, ``--set`` values, manifests and
cache entries: every input works or raises a MatineeError (a bad cache entry is rebuilt).

The categories live in ``benchmarks/fuzz_inputs.py``, which runs them for longer; here each runs
a few dozen inputs so that the suite keeps them honest.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matinee.store.manifest import ArraySpec, Manifest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "fuzz_inputs.py"


def _fuzz_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_inputs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


FUZZ = _fuzz_module()
CATEGORIES = [
    "ratings file (u.data bytes)",
    "ratings file (ratings.csv bytes)",
    "side table (u.item bytes)",
    "split spec (text)",
    "--set value (text)",
    "saved-model manifest (bytes)",
    "cache meta.json (bytes)",
]


@pytest.fixture(scope="module")
def workspace(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return FUZZ.Workspace(tmp_path_factory.mktemp("fuzz"))


@pytest.mark.slow
@pytest.mark.parametrize("name", CATEGORIES)
def test_every_input_works_or_raises_a_matinee_error(workspace: Any, name: str) -> None:
    strategy, target = FUZZ.categories(workspace)[name]
    tally = FUZZ.run_category(strategy, target, 25, strict=True)
    assert tally.tried >= 5 and tally.failures == []


def test_the_categories_listed_here_are_the_scripts(workspace: Any) -> None:
    assert list(FUZZ.categories(workspace)) == CATEGORIES


_NAMES = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12)
_NUMBERS = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    model=_NAMES,
    arrays=st.dictionaries(
        _NAMES,
        st.builds(
            ArraySpec,
            st.lists(st.integers(0, 10**6), max_size=3).map(tuple),
            st.sampled_from(["float32", "int64"]),
        ),
        max_size=4,
    ),
    files=st.dictionaries(
        _NAMES.map(lambda n: f"{n}.bin"), st.text("0123456789abcdef", min_size=64, max_size=64)
    ),
    metrics=st.dictionaries(_NAMES, _NUMBERS, max_size=3),
    history=st.lists(st.dictionaries(_NAMES, _NUMBERS, max_size=2), max_size=3),
)
def test_manifests_round_trip(
    model: str,
    arrays: dict[str, ArraySpec],
    files: dict[str, str],
    metrics: dict[str, float],
    history: list[dict[str, float]],
) -> None:
    manifest = Manifest(
        model=model, config={}, arrays=arrays, files=files, metrics=metrics, history=history
    )
    again = Manifest.from_json(manifest.to_json())
    assert again == manifest
    assert {again.stored(name) for name in files} == {manifest.stored(name) for name in files}
