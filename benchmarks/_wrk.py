"""Closed-loop HTTP load from ``wrk`` (C, epoll): a client that costs the server little CPU.

``wrk -t T -c C -d S`` keeps ``C`` connections each sending its next request when the last is
answered, like the benchmark's Python client, but at a fraction of its CPU. A Lua script posts
the benchmark's bodies in turn and prints one JSON line of counts and latency percentiles.
Debian packages it (``apt-get install -y wrk``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

SCRIPT = r"""
local bodies, next_body = {}, 1
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  next_body = 1 + (tonumber(args[2]) or 0) % #bodies
end
function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format("POST", "/api/v1/recommendations",
    {["Content-Type"] = "application/json"}, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def available() -> bool:
    """Whether ``wrk`` is on the PATH."""
    return shutil.which("wrk") is not None


def drive_wrk(url: str, bodies: list[bytes], clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` connections posting ``bodies`` for ``seconds``: the same fields as ``drive``.

    Errors count connect, read, write and timeout failures and non-2xx answers. wrk spreads
    the connections over up to 2 threads (one per core of the shared machine).
    """
    with tempfile.TemporaryDirectory(prefix="matinee-wrk-") as tmp:
        script, lines = Path(tmp) / "post.lua", Path(tmp) / "bodies.jsonl"
        script.write_text(SCRIPT)
        lines.write_bytes(b"\n".join(bodies) + b"\n")
        threads = min(2, clients)
        command = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{max(1, round(seconds))}s"]
        command += ["--timeout", "30s", "-s", str(script), url, "--", str(lines)]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    elapsed = stats["duration_us"] / 1e6
    failed = sum(stats[key] for key in ("connect", "read", "write", "status", "timeout"))
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": stats["requests"] - stats["status"],
        "errors": failed,
        "error_samples": [] if not failed else [json.dumps(stats)],
        "rps": round((stats["requests"] - stats["status"]) / elapsed, 1),
        "p50_ms": round(stats["p50_us"] / 1000, 2),
        "p99_ms": round(stats["p99_us"] / 1000, 2),
    }
