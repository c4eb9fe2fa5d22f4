"""Fuzz Matinee's input boundaries: every input either works or raises a MatineeError.

Each category pairs a Hypothesis strategy (byte-level mutations of genuine files, arbitrary text,
mutated JSON) with the public call that consumes it. A *failure* is any exception that is not a
:class:`~matinee.errors.MatineeError` (a traceback a user would see), or, for the parsed cache,
any exception at all (a bad entry must be rebuilt, not raised). Atheris would need one process
per category and gives no per-category counts; a long Hypothesis run covers the same inputs and
shrinks a failure to its smallest form.

``tests/robustness/test_fuzz_properties.py`` runs every category briefly in the test suite; this
script runs them long and writes ``benchmarks/results/fuzz_inputs.json`` and ``.md``::

    python benchmarks/fuzz_inputs.py --examples 1000
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matinee.data.cache import cache_entry, read_cache, write_cache
from matinee.data.dataset import Dataset
from matinee.data.loader import read_local
from matinee.data.split_spec import split_from_spec
from matinee.errors import MatineeError
from matinee.models.config_text import with_text_overrides
from matinee.models.registry import model_class
from matinee.store.files import load_model, save_model
from matinee.store.manifest import MANIFEST_NAME

RESULTS = Path(__file__).with_name("results")
MIRROR = Path(os.environ.get("MATINEE_DATA_MIRROR", Path(__file__).parents[2] / "shared" / "data"))
ML100K_SIDE = ("u.item", "u.genre", "u.user", "u.occupation")
RATINGS_LINES = 300
"""Lines of the genuine u.data kept as the base that mutations start from (small, fast)."""


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` with a few byte edits: flips, insertions, deletions, a truncation."""
    data = bytearray(base)
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["set", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(
                st.sampled_from([b"\t", b",", b"\n", b"-", b"9" * 12, b"nan", b"\x00"])
            )
        elif kind == "delete" and data:
            del data[at : at + draw(st.integers(1, 20))]
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


class Workspace:
    """Genuine files and a saved model that the categories start from, in a temporary folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        source = MIRROR / "ml-100k"
        lines = (source / "u.data").read_bytes().splitlines(keepends=True)
        self.u_data = b"".join(lines[:RATINGS_LINES])
        self.side = {name: (source / name).read_bytes() for name in ML100K_SIDE}
        self.csv_ratings = b"userId,movieId,rating,timestamp\n" + self.u_data.replace(b"\t", b",")
        self.movies_csv = b"movieId,title,genres\n1,Toy Story (1995),Animation|Comedy\n"
        self.dataset = dataclasses.replace(self.read_u_data(self.u_data), source_checksum="fuzz")
        self.model_dir = save_model(model_class("baseline")().fit(self.dataset.ratings), root / "m")
        self.manifest = (self.model_dir / MANIFEST_NAME).read_bytes()
        write_cache(root / "cache", self.dataset)
        self.meta = (
            cache_entry(root / "cache", self.dataset.name, "fuzz") / "meta.json"
        ).read_bytes()

    def folder(self, files: dict[str, bytes]) -> Path:
        """A fresh folder holding ``files``."""
        folder = Path(tempfile.mkdtemp(dir=self.root))
        for name, data in files.items():
            (folder / name).write_bytes(data)
        return folder

    def read_u_data(self, data: bytes) -> Dataset:
        """ml-100k with ``data`` as u.data and the genuine side files."""
        folder = self.folder({"u.data": data, **self.side})
        try:
            return read_local(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _csv(ws: Workspace, data: bytes) -> None:
    folder = ws.folder({"ratings.csv": data, "movies.csv": ws.movies_csv})
    try:
        read_local(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _u_item(ws: Workspace, data: bytes) -> None:
    folder = ws.folder({"u.data": ws.u_data, **ws.side, "u.item": data})
    try:
        read_local(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _manifest(ws: Workspace, data: bytes) -> None:
    folder = Path(tempfile.mkdtemp(dir=ws.root)) / "m"
    shutil.copytree(ws.model_dir, folder)
    (folder / MANIFEST_NAME).write_bytes(data)
    try:
        load_model(folder)
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)


def _cache_meta(ws: Workspace, data: bytes) -> None:
    """A bad meta.json must make read_cache return None (rebuild), never raise."""
    cache = Path(tempfile.mkdtemp(dir=ws.root))
    write_cache(cache, ws.dataset)
    (cache_entry(cache, ws.dataset.name, "fuzz") / "meta.json").write_bytes(data)
    try:
        read_cache(cache, ws.dataset.name, "fuzz")
    except MatineeError as error:
        raise AssertionError(f"read_cache raised instead of rebuilding: {error}") from None
    finally:
        shutil.rmtree(cache, ignore_errors=True)


_CONFIG_FIELDS = ("n_factors", "reg", "init_std", "learning_rate", "epochs", "seed", "patience")


def _set_value(_: Workspace, pair: tuple[str, str, str]) -> None:
    model, key, text = pair
    with_text_overrides(model_class(model).config_type(), {key: text})


_SPEC_WORDS = st.sampled_from(
    ["u1", "u6", "ua", "random", "temporal", "kfold", "leave-last", ":", "0.2", "5", "-1", "nan",
     "1e9", "seed=1", ",", "x"]
)  # fmt: skip


def categories(ws: Workspace) -> dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], None]]]:
    """Every category: its strategy and the call that must work or raise a MatineeError."""
    text = st.text(max_size=40)
    return {
        "ratings file (u.data bytes)": (mutated(ws.u_data), ws.read_u_data),
        "ratings file (ratings.csv bytes)": (mutated(ws.csv_ratings), lambda d: _csv(ws, d)),
        "side table (u.item bytes)": (mutated(ws.side["u.item"]), lambda d: _u_item(ws, d)),
        "split spec (text)": (
            st.one_of(text, st.lists(_SPEC_WORDS, max_size=6).map("".join)),
            lambda spec: split_from_spec(ws.dataset, spec),
        ),
        "--set value (text)": (
            st.tuples(
                st.sampled_from(["biased-mf", "baseline", "ials", "item-knn"]),
                st.sampled_from(_CONFIG_FIELDS),
                st.one_of(text, st.sampled_from(["nan", "inf", "-inf", "1e400", "true", "-0", ""])),
            ),
            lambda pair: _set_value(ws, pair),
        ),
        "saved-model manifest (bytes)": (mutated(ws.manifest), lambda d: _manifest(ws, d)),
        "cache meta.json (bytes)": (
            st.one_of(
                mutated(ws.meta), st.sampled_from([b"[]", b"{}", b"null", b"1", b'{"files": []}'])
            ),
            lambda d: _cache_meta(ws, d),
        ),
    }


@dataclasses.dataclass
class Tally:
    """Inputs tried in one category and the ones that failed (with a short traceback)."""

    tried: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)


def run_category(
    strategy: st.SearchStrategy[Any], target: Callable[[Any], None], examples: int, *, strict: bool
) -> Tally:
    """Feed ``examples`` inputs to ``target``; with ``strict`` the first failure is raised."""
    tally = Tally()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def check(value: Any) -> None:
        tally.tried += 1
        try:
            target(value)
        except MatineeError:
            return
        except Exception as error:
            if strict:
                raise
            tally.failures.append(f"{type(error).__name__}: {error} <- {value!r:.200}")
            traceback.print_exc(limit=3)

    check()
    return tally


def _markdown(rows: list[dict[str, Any]], command: str, seconds: float) -> str:
    lines = [
        "# Fuzzing Matinee's inputs",
        "",
        "| category | inputs tried | failures | command |",
        "|---|---:|---:|---|",
        *(f"| {r['category']} | {r['tried']} | {r['failures']} | `{command}` |" for r in rows),
        "",
        "A failure is any exception that is not a MatineeError (for the cache: any exception). "
        f"{seconds:.0f} s on {os.cpu_count()} CPUs shared with other jobs "
        f"(Python {platform.python_version()}).",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    """Run every category and write the JSON and Markdown results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="inputs per category")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # every rebuilt cache entry warns; the counts say enough
    command = f"python benchmarks/fuzz_inputs.py --examples {args.examples}"
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as root:
        ws = Workspace(Path(root))
        for name, (strategy, target) in categories(ws).items():
            tally = run_category(strategy, target, args.examples, strict=False)
            rows.append({"category": name, "tried": tally.tried, "failures": len(tally.failures),
                         "examples": tally.failures[:5]})  # fmt: skip
            sys.stderr.write(f"{name}: {tally.tried} tried, {len(tally.failures)} failures\n")
    seconds = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {"command": command, "seconds": seconds, "categories": rows}
    (args.out / "fuzz_inputs.json").write_text(json.dumps(summary, indent=2) + "\n")
    table = _markdown(rows, command, seconds)
    (args.out / "fuzz_inputs.md").write_text(table)
    sys.stdout.write(json.dumps(summary) + "\n" + table)
    return 1 if any(row["failures"] for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
