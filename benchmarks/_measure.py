"""Time a callable in a fresh subprocess and report its wall time and peak memory.

``measure("module:function", *args)`` starts a fresh wrapper process, which starts a fresh worker
process that imports ``module``, calls ``function(*args)`` once and reports how long the call took.
The wrapper has no other child, so ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` is exactly
the worker's peak resident memory (imports included), untouched by earlier measurements.

Arguments and the return value must be JSON-serialisable. ``module`` is imported with the folders
in ``paths`` (default: this file's folder) at the front of ``sys.path``; modules in ``preload`` are
imported before the clock starts, so heavy imports are not timed (their memory still counts).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

__all__ = ["Measurement", "measure", "write_results"]

_HERE = str(Path(__file__).resolve().parent)


@dataclass(frozen=True)
class Measurement:
    """What one call cost, measured in its own process."""

    label: str
    seconds: float
    """Wall time of the call itself (imports and interpreter start excluded)."""
    cpu_seconds: float
    """CPU time (user + system, all threads) of the call itself."""
    process_seconds: float
    """Wall time of the whole worker process, interpreter start and imports included."""
    peak_rss_mb: float
    """Peak resident memory of the worker process in MiB (imports included)."""
    result: Any
    """What the callable returned (JSON)."""

    def as_dict(self) -> dict[str, Any]:
        """The measurement as a JSON-ready dict."""
        return asdict(self)


def measure(
    target: str,
    *args: Any,
    label: str = "",
    paths: Sequence[str] = (_HERE,),
    preload: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> Measurement:
    """Call ``target`` (``"module:function"``) with ``args`` in a fresh process and measure it.

    Modules named in ``preload`` are imported before the clock starts (their memory still counts).
    """
    spec = json.dumps(
        {"target": target, "args": list(args), "paths": list(paths), "preload": list(preload)}
    )
    completed = subprocess.run(
        [sys.executable, __file__, "--wrap", spec],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{target} failed:\n{completed.stderr[-4000:]}")
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    return Measurement(label=label or target, **report)


def write_results(stem: str, data: Any, table: str) -> None:
    """Write ``results/STEM.json`` (``data``) and ``results/STEM.md`` (``table``), then print it."""
    results = Path(_HERE) / "results"
    results.mkdir(exist_ok=True)
    (results / f"{stem}.json").write_text(json.dumps(data, indent=2) + "\n")
    (results / f"{stem}.md").write_text(table)
    print(table)


def _wrap(spec: str) -> None:
    """Run one worker, then report its timing and peak RSS as one JSON line."""
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, __file__, "--run", spec], capture_output=True, text=True, check=False
    )
    process_seconds = time.perf_counter() - start
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        raise SystemExit(completed.returncode)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    worker = json.loads(completed.stdout.strip().splitlines()[-1])
    report = {
        "seconds": worker["seconds"],
        "cpu_seconds": worker["cpu_seconds"],
        "process_seconds": process_seconds,
        "peak_rss_mb": peak_kib / 1024,
        "result": worker["result"],
    }
    sys.stdout.write(json.dumps(report) + "\n")


def _run(spec: str) -> None:
    """Import the target, call it once, and print the call's wall time and result."""
    parsed = json.loads(spec)
    sys.path[:0] = parsed["paths"]
    for name in parsed["preload"]:
        import_module(name)
    module_name, function_name = parsed["target"].split(":")
    function = getattr(import_module(module_name), function_name)
    start, cpu_start = time.perf_counter(), time.process_time()
    result = function(*parsed["args"])
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    report = {"seconds": seconds, "cpu_seconds": cpu_seconds, "result": result}
    sys.stdout.write("\n" + json.dumps(report) + "\n")


if __name__ == "__main__":
    mode, payload = sys.argv[1], sys.argv[2]
    {"--wrap": _wrap, "--run": _run}[mode](payload)
