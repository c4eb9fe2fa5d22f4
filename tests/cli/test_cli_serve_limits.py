"""``matinee serve``'s request caps: one option group whose defaults are ServeLimits' own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from matinee.cli import app

REPO = Path(__file__).resolve().parents[2]


def test_help_lists_the_caps_in_place_with_their_defaults() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    flags = ["--workers", "--max-k", "--max-ratings", "--max-body-kib", "--max-search", "--watch"]
    positions = [text.index(flag) for flag in flags]
    assert positions == sorted(positions)
    for shown in (
        "Longest list a request may ask for. [default: 100]",
        "Most ratings in one new-user request. [default: 1000]",
        "Largest request body, in KiB. [default: 256]",
        "Most titles one search returns. [default: 50]",
    ):
        assert shown in text


def test_help_loads_no_web_stack() -> None:
    code = (
        "import sys; sys.argv = ['matinee', 'serve', '--help']\n"
        "from matinee.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "web = ('fastapi', 'uvicorn', 'starlette', 'matinee.serve.app')\n"
        "print(sorted(m for m in web if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_group_defaults_are_serve_limits_defaults() -> None:
    pytest.importorskip("fastapi")
    from matinee.cli.serve import LimitOptions
    from matinee.serve.limits import ServeLimits

    assert LimitOptions().limits() == ServeLimits()


def test_the_options_reach_the_server_as_serve_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("fastapi")
    from matinee.serve import runner
    from matinee.serve.limits import ServeLimits

    given: dict[str, Any] = {}
    monkeypatch.setattr(runner, "run_server", lambda dirs, **kwargs: given.update(kwargs))
    args = ["serve", str(tmp_path), "--max-k", "7", "--max-body-kib", "2", "--max-search", "3"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert given["limits"] == ServeLimits(max_k=7, max_body_bytes=2048, max_search_limit=3)
    assert given["workers"] == 1 and given["watch"] is True


def test_a_bad_cap_is_refused_with_the_config_exit_code(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    result = CliRunner().invoke(app, ["serve", str(tmp_path), "--max-k", "5000"])
    assert result.exit_code == 2, result.output
    assert "max_k must be at most 1000" in " ".join(result.output.split())
