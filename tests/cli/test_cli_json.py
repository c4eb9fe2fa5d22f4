"""Every command's ``--json`` output is JSON alone on stdout, run as a script would run it.

Each command runs in a fresh process (as a shell pipeline runs it), so that anything written to
stdout by a library, a warning or a progress bar would break the parse. The last test checks
that the commands run here are all the commands there are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main

from matinee.cli.app import COMMANDS, app

pytestmark = pytest.mark.slow

ANIMATED = "1:5,588:5,595:5"  # Toy Story, Aladdin, Beauty and the Beast (ml-100k ids)


def _run(args: list[str], env: dict[str, str]) -> tuple[Any, str]:
    """Run ``matinee ARGS`` in a new process; return its stdout parsed as JSON, and stderr."""
    code = "from matinee.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, f"matinee {' '.join(args)}: {done.stderr}"
    try:
        return json.loads(done.stdout), done.stderr
    except json.JSONDecodeError as error:
        pytest.fail(f"matinee {' '.join(args)} printed more than JSON ({error}): {done.stdout!r}")


@pytest.fixture(scope="module")
def env(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {
        **os.environ,
        "MATINEE_DATA_MIRROR": str(mirror),
        "MATINEE_CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
        "COLUMNS": "80",
    }


@pytest.fixture(scope="module")
def ran(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every command with --json, in the order a user would run them; outputs by command."""
    work = tmp_path_factory.mktemp("work")
    model = str(work / "nmf")
    # max_iter=5 makes scikit-learn warn (ConvergenceWarning): the warning must reach stderr only.
    nmf = ["--set", "max_iter=5", "--dataset", "ml-100k", "--split", "u1"]
    runs = {
        "data list": ["data", "list"],
        "data fetch": ["data", "fetch", "ml-100k"],
        "data info": ["data", "info", "ml-100k"],
        "models": ["models"],
        "train": ["train", "nmf-matrix", "--out", model, *nmf],
        "evaluate": ["evaluate", model],
        "compare": [
            "compare",
            "--models",
            "baseline,nmf-matrix",
            "--set",
            "nmf-matrix.max_iter=5",
            "--split",
            "u1",
        ],
        "tune": ["tune", "baseline", "--trials", "2", "--out", str(work / "tune")],
        "predict": ["predict", model, "1", "1"],
        "recommend": ["recommend", model, "--rated", ANIMATED, "-k", "5"],
        "similar": ["similar", model, "--movie", "Toy Story (1995)", "-k", "5"],
        "explain": ["explain", model, "--out", str(work / "report"), "--map", "pca"],
        "spark train": [
            "spark",
            "train",
            "baseline",
            "--out",
            str(work / "spark-baseline"),
            "--split",
            "u1",
        ],
        "spark evaluate": ["spark", "evaluate", str(work / "spark-baseline")],
    }
    outputs = {name: _run([*args, "--json"], env) for name, args in runs.items()}
    outputs["models NAME"] = _run(["models", "biased-mf", "--json"], env)
    outputs["movies search"] = _run(
        ["movies", "search", "toy story", "--model", model, "--json"], env
    )
    return outputs


def test_data_commands_print_json(ran: dict[str, Any]) -> None:
    assert "ml-100k" in [row["name"] for row in ran["data list"][0]]
    assert ran["data fetch"][0]["ratings"] == 100_000
    assert ran["data info"][0]["histogram"]["4"] == 34_174


def test_model_commands_print_json(ran: dict[str, Any]) -> None:
    assert {row["name"] for row in ran["models"][0]} >= {"ease", "nmf-matrix"}
    assert ran["models NAME"][0]["name"] == "biased-mf"
    assert ran["train"][0]["model"] == "nmf-matrix"
    assert ran["train"][0]["size_bytes"] > 0
    assert ran["evaluate"][0]["metrics"] == pytest.approx(ran["train"][0]["metrics"])
    assert set(ran["compare"][0]["models"]) == {"baseline", "nmf-matrix", "popular"}
    assert isinstance(ran["predict"][0]["prediction"], float)
    assert ran["tune"][0]["trials"] == 2 and ran["tune"][0]["test_metrics"]["rmse"] < 1.0


def test_spark_commands_print_json(ran: dict[str, Any]) -> None:
    trained, evaluated = ran["spark train"][0], ran["spark evaluate"][0]
    assert trained["model"] == "baseline"
    assert evaluated["metrics"] == pytest.approx(trained["metrics"])
    assert 0.9 < trained["metrics"]["rmse"] < 1.0


def test_list_commands_print_json(ran: dict[str, Any]) -> None:
    assert len(ran["recommend"][0]) == 5
    assert len(ran["similar"][0]) == 5
    assert "Toy Story (1995)" in [row["title"] for row in ran["movies search"][0]]
    assert ran["explain"][0]["report"].endswith("index.html")


def test_library_warnings_go_to_stderr(ran: dict[str, Any]) -> None:
    for command in ("train", "compare"):
        _, stderr = ran[command]
        assert "Maximum number of iterations 5 reached" in " ".join(stderr.split())


def _leaf_commands(group: Any, prefix: str = "") -> list[str]:
    names = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            names += _leaf_commands(command, f"{prefix}{name} ")
        else:
            names.append(prefix + name)
    return names


LONG_RUNNING = {"serve"}
"""Commands that run until stopped and print no result (tested in tests/serve)."""


def test_every_command_is_covered_and_takes_json(ran: dict[str, Any]) -> None:
    import importlib

    for module, _ in COMMANDS.values():
        importlib.import_module(module)
    root = typer.main.get_group(app)
    leaves = [leaf for leaf in _leaf_commands(root) if leaf not in LONG_RUNNING]
    assert set(leaves) <= set(ran), f"commands without a --json run: {set(leaves) - set(ran)}"
    for leaf in leaves:
        command: Any = root
        for part in leaf.split():
            command = command.commands[part]
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert "--json" in options, f"matinee {leaf} has no --json"


def test_help_lines_and_model_summaries_match_their_docstrings() -> None:
    import importlib
    import inspect

    from matinee.models.registry import MODELS, SUMMARIES, model_class

    for module, _ in COMMANDS.values():
        importlib.import_module(module)
    root = typer.main.get_group(app)
    for name, (_, summary) in COMMANDS.items():
        assert (root.commands[name].help or "").strip().splitlines()[0] == summary, name
    assert set(SUMMARIES) == set(MODELS)
    for name, summary in SUMMARIES.items():
        if MODELS[name][1] is None:
            assert (inspect.getdoc(model_class(name)) or "").splitlines()[0] == summary, name


def _help(args: list[str]) -> str:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


def test_help_placeholders_are_plain_on_every_command() -> None:
    import importlib

    for module, _ in COMMANDS.values():
        importlib.import_module(module)
    pages = [_help([])] + [
        _help(leaf.split()) for leaf in _leaf_commands(typer.main.get_group(app))
    ]
    for page in pages:
        for bad in ("<bool>", "{", "<list", "<str>", "<int>", "--k "):
            assert bad not in page, f"{bad!r} in help:\n{page}"
    assert "INTEGER" in _help(["recommend"]) and "MODEL_DIR" in _help(["recommend"])


def test_version_and_light_commands(env: dict[str, str]) -> None:
    code = (
        "import sys; from matinee.cli import main; sys.argv = ['matinee', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in sys.modules if m.startswith('matinee.models.') and "
        "m not in ('matinee.models.registry', 'matinee.models._lazy')]\n"
        "sys.stderr.write(repr(sorted(m for m in ('numpy', 'polars', 'torch') if m in sys.modules)"
        " + heavy))"
    )
    for args, printed in ((["--version"], "matinee 0.1.0"), (["models"], "biased-mf")):
        done = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env
        )
        assert printed in done.stdout
        assert done.stderr.strip().endswith("[]"), done.stderr
