"""``matinee tune``: a thin shell over :func:`matinee.evaluation.tuning.tune`.

It loads the data, cuts the one outer split, reads ``--space`` and ``--set``, runs the search
with a progress bar, writes the trials table, ``best.json`` and a plot under ``--out``, and
prints the trials and the outer test score.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from matinee.cli._configs import ConfigFile, model_config
from matinee.cli._options import DatasetName, JsonFlag, ModelName
from matinee.cli.app import app, console, err_console, report
from matinee.errors import ConfigError, MatineeError
from matinee.settings import Settings
from matinee.training.loop import FitOptions

__all__ = ["tune_command"]


@app.command("tune")
def tune_command(
    model: ModelName,
    dataset: DatasetName = "ml-100k",
    split: Annotated[
        str, typer.Option("--split", help="Outer split spec (one split): u1, random:0.1 ...")
    ] = "u1",
    trials: Annotated[int, typer.Option("--trials", help="Configs to try.")] = 20,
    metric: Annotated[
        str, typer.Option("--metric", help="What to optimise: rmse, mae or ndcg@10 ...")
    ] = "rmse",
    space: Annotated[
        list[str] | None,
        typer.Option("--space", help="Search key=low:high[:log] or key=a,b (repeatable)."),
    ] = None,
    only_given: Annotated[
        bool, typer.Option("--only-space", help="Search only the --space fields.")
    ] = False,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds after which no trial starts.")
    ] = None,
    inner_folds: Annotated[
        int, typer.Option("--inner-folds", help="1: one validation share; k: k inner folds.")
    ] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sampler and splits.")] = 0,
    relevance: Annotated[
        float,
        typer.Option("--relevance", help="Ratings at or above this are relevant (ranking)."),
    ] = 4.0,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for trials, best.json and the plot.")
    ] = None,
    set_values: Annotated[
        list[str] | None,
        typer.Option("--set", help="Fixed config value key=value (repeatable)."),
    ] = None,
    config_file: ConfigFile = None,
    device: Annotated[
        str | None, typer.Option("--device", help="Torch device of neural models: cpu or cuda.")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Search a model's settings with Optuna on inner splits; score the best once on test."""
    from matinee.evaluation.tuning import TuneSettings

    def work() -> dict[str, Any]:
        settings = TuneSettings(
            trials=trials,
            metric=metric,
            timeout=timeout,
            seed=seed,
            inner_folds=inner_folds,
            relevance_threshold=relevance,
        )
        options = FitOptions(device=device, progress=False)
        base = model_config(model, config_file, set_values or [])
        given = (space or [], only_given)
        return _tune(model, (dataset, split), base, given, settings, options, out, not json_output)

    def show(summary: dict[str, Any]) -> None:
        console.print(_trials_table(summary))
        test_value = summary["test_metrics"].get(metric.lower(), float("nan"))
        console.print(
            f"best trial {summary['best_trial']}: {metric} {summary['best_value']:.4f} on the "
            f"inner splits; outer test {test_value:.4f} ({summary['search_seconds']:.0f}s search)",
            highlight=False,
        )
        for name, path in summary.get("files", {}).items():
            console.print(f"wrote {name}: {path}", highlight=False)

    report(work, json_output, show)


def _tune(
    name: str,
    data: tuple[str, str],
    base: Any,
    space_given: tuple[Sequence[str], bool],
    settings: Any,
    options: FitOptions,
    out: Path | None,
    show_progress: bool,
) -> dict[str, Any]:
    """Run the search; write its files under ``out``; return the summary ``--json`` prints."""
    from matinee.cli.models import _one_split
    from matinee.data.loader import load_dataset
    from matinee.evaluation.tuning import tune
    from matinee.evaluation.tuning_results import write_tune_files
    from matinee.models.registry import model_class
    from matinee.models.search import parse_dimension, search_space

    cls = model_class(name)
    dataset_name, spec = data
    texts, only_given = space_given
    given = dict(parse_dimension(cls.config_type, text) for text in texts)
    if only_given and not given:
        raise ConfigError("--only-space needs at least one --space key=low:high")
    space = given if only_given else {**search_space(cls.config_type), **given}
    quiet = Settings.from_env(show_progress=False)
    dataset = load_dataset(dataset_name, settings=quiet)
    split = _one_split(dataset, spec, quiet)
    result = tune(
        cls,
        split,
        settings=settings,
        space=space,
        base=base,
        fit_options=options,
        show_progress=show_progress,
        movies=dataset.movies,
    )
    summary = result.to_dict()
    summary["dataset"], summary["split"] = dataset_name, spec
    summary["trial_rows"] = [trial.to_dict() for trial in result.trials]
    if out is not None:
        files = write_tune_files(result, out)
        plot = _plot(result, out)
        if plot is not None:
            files["search.png"] = plot
        summary["files"] = {key: str(path) for key, path in files.items()}
    return summary


def _plot(result: Any, out: Path) -> Path | None:
    """Draw the search as ``search.png``; skipped (with a note) without the plot extra."""
    try:
        from matinee.explain.plots import save_figure
        from matinee.explain.plots_tuning import plot_search
    except MatineeError as error:
        err_console.print(f"no search plot: {error}", highlight=False)
        return None
    return save_figure(plot_search(result), Path(out) / "search.png")


def _trials_table(summary: dict[str, Any]) -> Table:
    """The trials, one row each: state, value, the values tried, the epochs that scored."""
    rows = summary["trial_rows"]
    params = list(dict.fromkeys(k for row in rows for k in row if k.startswith("param_")))
    table = Table(title=f"{summary['model']}: {summary['trials']} trials ({summary['metric']})")
    for column in ("trial", "state", "value", *(p.removeprefix("param_") for p in params)):
        table.add_column(column, justify="right", overflow="fold")
    table.add_column("epochs", justify="right", overflow="fold")
    for row in rows:
        cells = [str(row["trial"]), row["state"], _cell(row["value"])]
        cells += [_cell(row.get(p)) for p in params] + [_cell(row.get("epochs_scored"))]
        style = "bold green" if row["trial"] == summary["best_trial"] else None
        table.add_row(*cells, style=style)
    return table


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if 0.1 <= abs(value) < 10 else f"{value:.3g}"
    return str(value)
