"""``matinee train | evaluate | compare``: thin shells over training, evaluation and the store.

Every command takes ``--json`` for scripts; errors are :class:`~matinee.errors.MatineeError`
printed by :func:`~matinee.cli.app.fail` with their exit code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from matinee.atomic import write_text_atomic
from matinee.cli._configs import (
    ConfigFile,
    SetOption,
    file_configs,
    model_config,
    parse_settings,
)
from matinee.cli._options import (
    DatasetName,
    JsonFlag,
    ModelName,
    SaveDir,
    Scoring,
    TrainedOn,
    metrics_table,
    option_groups,
    scores_table,
)
from matinee.cli.app import app, console, fail, report
from matinee.cli.filtering import (
    CountFilters,
    RecordedCountFilters,
    apply_count_filters,
    filters_record,
    recorded_filters,
)
from matinee.errors import ConfigError, DataError, MatineeError
from matinee.models.base import Recommender
from matinee.models.config_text import with_text_overrides
from matinee.settings import Settings
from matinee.training.loop import FitOptions

__all__ = [
    "compare_command",
    "evaluate_command",
    "parse_settings",
    "train_command",
]

WHOLE_DATA = ("none", "all")
"""``--split`` values that train on every rating (nothing is held out, so nothing is scored)."""

FORMATS = ("rich", "markdown", "json", "csv")

ModelDir = Annotated[Path, typer.Argument(help="Folder of a model saved by `matinee train`.")]
Device = Annotated[
    str | None,
    typer.Option(
        "--device", help="Torch device of neural models: cpu or cuda (default: CUDA if any)."
    ),
]


def _settings(json_output: bool) -> Settings:
    return Settings.from_env(show_progress=not json_output)


def _one_split(dataset: Any, spec: str, settings: Settings) -> Any:
    from matinee.data.split_spec import split_from_spec

    splits = split_from_spec(dataset, spec, settings=settings)
    if len(splits) != 1:
        raise ConfigError(
            f"--split {spec!r} makes {len(splits)} splits; this command takes one "
            "(for example u1, or random:0.2); use `matinee compare` for several"
        )
    return splits[0]


def _size_text(size: int) -> str:
    """A file size for people: 812 KB, 12.3 MB, 1.4 GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size / 1e3:,.0f} KB"


@app.command("train")
@option_groups
def train_command(
    model: ModelName,
    out: SaveDir,
    dataset: DatasetName = "ml-100k",
    split: Annotated[
        str, typer.Option("--split", help="Split spec (u1, random:0.2 ...) or none/all.")
    ] = "u1",
    set_values: SetOption = None,
    config_file: ConfigFile = None,
    *,
    scoring: Scoring,
    device: Device = None,
    filters: CountFilters,
    json_output: JsonFlag = False,
) -> None:
    """Train a model, score it on the split's test part, and save it with its metrics."""

    def work() -> dict[str, Any]:
        options = FitOptions(progress=not json_output, device=device)
        given = (config_file, set_values or [])
        return _train(model, out, dataset, split, given, scoring, options, filters.record())

    def show(summary: dict[str, Any]) -> None:
        console.print(
            f"saved [bold]{model}[/] to {summary['out']}: {_size_text(summary['size_bytes'])} "
            f"({summary['fit_seconds']:.1f}s fit)",
            highlight=False,
        )
        if summary["metrics"]:
            console.print(metrics_table(f"{model} on {dataset} {split}", summary["metrics"]))

    report(work, json_output, show)


def _train(
    name: str,
    out: Path,
    dataset_name: str,
    spec: str,
    settings_given: tuple[Path | None, Sequence[str]],
    scoring: Scoring,
    options: FitOptions,
    counts: dict[str, int],
) -> dict[str, Any]:
    from matinee.data.loader import load_dataset
    from matinee.models.registry import model_class
    from matinee.models.side_info import give_movie_features
    from matinee.service import save_bundle
    from matinee.store.files import check_model_target

    check_model_target(out)
    cls = model_class(name)
    config = model_config(name, *settings_given)
    settings = _settings(not options.progress)
    dataset = _filtered(
        load_dataset(dataset_name, settings=settings), counts, spec, options.progress
    )
    whole = spec.strip().lower() in WHOLE_DATA
    chosen = None if whole else _one_split(dataset, spec, settings)
    train = dataset.ratings if chosen is None else chosen.train
    validation = None if chosen is None else chosen.validation
    scored = None if chosen is None else scoring.settings()
    started = time.perf_counter()
    fitted = cls(config)
    give_movie_features(fitted, dataset.movies)
    fitted.fit(train, validation, options=options)
    fit_seconds = time.perf_counter() - started
    metrics: dict[str, float] = {}
    if chosen is not None and scored is not None:
        result = scored.evaluate(fitted, chosen, show_progress=options.progress)
        metrics = dict(result.metrics)
    extra = {
        "dataset": dataset_name,
        "split": "all" if whole else spec,
        "k": scoring.k,
        "relevance_threshold": scoring.relevance,
        "fit_seconds": fit_seconds,
        **counts,
    }
    save_bundle(fitted, out, train=train, metrics=metrics, extra=extra, movies=dataset.movies)
    return {
        "size_bytes": sum(path.stat().st_size for path in out.rglob("*") if path.is_file()),
        "model": name,
        "dataset": dataset_name,
        "split": extra["split"],
        "out": str(out),
        "config": config.to_dict(),
        "fit_seconds": fit_seconds,
        "metrics": metrics,
        **counts,
    }


def _filtered(dataset: Any, counts: dict[str, int], spec: str, show: bool) -> Any:
    """The dataset cut by the recorded ``min_*_ratings`` counts (unchanged without any)."""
    least_user, least_movie = counts.get("min_user_ratings"), counts.get("min_movie_ratings")
    return apply_count_filters(dataset, least_user, least_movie, spec=spec, quiet=not show)


@app.command("evaluate")
@option_groups
def evaluate_command(
    model_dir: ModelDir,
    trained: TrainedOn,
    *,
    scoring: Scoring,
    device: Device = None,
    filters: RecordedCountFilters,
    json_output: JsonFlag = False,
) -> None:
    """Re-score a saved model on the split it was trained on (its data fingerprint is checked)."""

    def work() -> dict[str, Any]:
        asked = filters.record()
        return _evaluate(model_dir, trained, scoring, json_output, device, asked)

    report(work, json_output, scores_table(""))


def _evaluate(
    model_dir: Path,
    trained: TrainedOn,
    scoring: Scoring,
    json_output: bool,
    device: str | None = None,
    asked: dict[str, int] | None = None,
) -> dict[str, Any]:
    from matinee.data.loader import load_dataset
    from matinee.store.files import load_model, read_manifest

    manifest = read_manifest(model_dir)
    name, spec = trained.resolve(model_dir, manifest.extra)
    if spec.strip().lower() in WHOLE_DATA:
        raise ConfigError(
            f"{model_dir} was trained on every rating of {name}, so no test ratings are left; "
            "train it on a split (--split u1) to evaluate it"
        )
    model = load_model(model_dir, device=device)
    settings = _settings(json_output)
    counts = filters_record(*recorded_filters(manifest.extra)) | (asked or {})
    dataset = _filtered(load_dataset(name, settings=settings), counts, spec, not json_output)
    chosen = _one_split(dataset, spec, settings)
    if model.data_fingerprint_ != chosen.train.fingerprint():
        raise DataError(
            f"{model_dir} was trained on other data than the training part of {name} {spec} "
            "(data fingerprints differ); scoring it there would leak test ratings"
        )
    result = scoring.settings().evaluate(model, chosen, show_progress=not json_output)
    return {
        "model": manifest.model,
        "dataset": name,
        "split": spec,
        "metrics": dict(result.metrics),
        "predict_seconds": result.predict_seconds,
        "n_test_ratings": result.n_test_ratings,
        "n_ranked_users": result.n_ranked_users,
        **counts,
    }


@app.command("compare")
@option_groups
def compare_command(
    models: Annotated[str, typer.Option("--models", help="Comma-separated model names.")],
    dataset: DatasetName = "ml-100k",
    split: Annotated[
        str, typer.Option("--split", help="Split spec (default: new users, 3 seeds), e.g. u1-u5.")
    ] = "hidden-ratings:users=0.2,hidden=0.5,seeds=3",
    set_values: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override model.key=value, e.g. mf.epochs=10 (repeatable)."),
    ] = None,
    config_files: Annotated[
        list[Path] | None,
        typer.Option(
            "--config", help="JSON config file naming its model (repeatable); --set wins."
        ),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="rich, markdown, json or csv.")
    ] = "rich",
    out: Annotated[Path | None, typer.Option("--out", help="Also write the table here.")] = None,
    *,
    scoring: Scoring,
    device: Device = None,
    filters: CountFilters,
    json_output: JsonFlag = False,
) -> None:
    """Run several models on the same splits and print one side-by-side table."""
    try:
        chosen_format = "json" if json_output else output_format
        if chosen_format not in FORMATS:
            raise ConfigError(f"--format {output_format!r}: choose one of {', '.join(FORMATS)}")
        quiet = chosen_format != "rich"  # keep piped Markdown / JSON / CSV free of progress
        options = FitOptions(progress=not quiet, device=device)
        factories = _factories(models, set_values or [], config_files or [])
        table = _compare(factories, dataset, split, scoring, options, filters.record())
        text = _render(table, "markdown" if chosen_format == "rich" else chosen_format)
        if out is not None:
            write_text_atomic(out, text)
    except MatineeError as error:
        raise fail(error) from None
    if chosen_format == "rich":
        console.print(table.to_rich(width=console.width))
    else:
        typer.echo(text, nl=False)


def _factories(
    names: str, pairs: Sequence[str], files: Sequence[Path] = ()
) -> dict[str, Callable[[], Recommender[Any]]]:
    from matinee.models.registry import model_class

    chosen = [name.strip() for name in names.split(",") if name.strip()]
    if not chosen:
        raise ConfigError("--models names no model; for example --models baseline,mf")
    overrides: dict[str, dict[str, str]] = {name: {} for name in chosen}
    for key, value in parse_settings(pairs).items():
        model, dot, field = key.partition(".")
        if not dot or model not in overrides:
            raise ConfigError(
                f"--set {key}={value}: write model.key=value with a model from --models "
                f"({', '.join(chosen)})"
            )
        overrides[model][field] = value
    factories: dict[str, Callable[[], Recommender[Any]]] = {}
    from_files = file_configs(chosen, files)
    for name in chosen:
        cls = model_class(name)
        base = from_files.get(name) or cls.config_type()
        config = with_text_overrides(base, overrides[name])
        factories[name] = _factory(cls, config)
    return factories


def _factory(cls: type[Recommender[Any]], config: Any) -> Callable[[], Recommender[Any]]:
    return lambda: cls(config)


def _compare(
    factories: dict[str, Callable[[], Recommender[Any]]],
    dataset_name: str,
    spec: str,
    scoring: Scoring,
    options: FitOptions,
    counts: dict[str, int],
) -> Any:
    from matinee.data.loader import load_dataset
    from matinee.data.split_spec import split_from_spec
    from matinee.evaluation.compare import compare_with

    settings = _settings(not options.progress)
    dataset = _filtered(
        load_dataset(dataset_name, settings=settings), counts, spec, options.progress
    )
    splits = split_from_spec(dataset, spec, settings=settings)
    return compare_with(
        scoring.settings(movies=dataset.movies),
        factories,
        splits,
        fit_options=options,
        show_progress=options.progress,
    )


def _render(table: Any, output_format: str) -> str:
    """The table as text in a file format (markdown, json or csv)."""
    if output_format == "markdown":
        return str(table.to_markdown())
    if output_format == "json":
        return str(table.to_json()) + "\n"
    return str(table.to_csv())
