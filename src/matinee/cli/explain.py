"""``matinee explain DIR --out report/``: the explanation report of a saved model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import typer

from matinee.cli._options import JsonFlag, SavedModel
from matinee.cli.app import app, console, err_console, fail, print_json
from matinee.errors import ConfigError, MatineeError
from matinee.settings import Settings

MAP_METHODS = ("tsne", "pca", "umap")


@app.command("explain")
def explain(
    model_dir: SavedModel,
    out: Annotated[Path, typer.Option("--out", help="Report folder to write.")] = Path("report"),
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset",
            help="Release the model was trained on (titles, genres, counts); "
            "default: the one named in the model's manifest.",
        ),
    ] = None,
    map_method: Annotated[
        str, typer.Option("--map", help="Layout of the cluster map: tsne, pca or umap.")
    ] = "tsne",
    seed: Annotated[int, typer.Option("--seed", help="Seed of k-means, maps, baselines.")] = 0,
    json_output: JsonFlag = False,
) -> None:
    """Write PNGs and one self-contained HTML page explaining what a saved model learned."""
    try:
        path = _explain(model_dir, out, dataset, map_method, seed)
    except MatineeError as error:
        raise fail(error) from None
    if json_output:
        files = sorted(
            str(p.relative_to(path.parent)) for p in path.parent.rglob("*") if p.is_file()
        )
        print_json({"model_dir": str(model_dir), "report": str(path), "files": files})
        return
    console.print(f"wrote {path}")


def _explain(
    model_dir: Path, out: Path, dataset_name: str | None, map_method: str, seed: int
) -> Path:
    from matinee.data.loader import load_dataset
    from matinee.explain.clusters import MapMethod
    from matinee.explain.report import ReportOptions, build_report
    from matinee.store.files import load_model, read_manifest, read_movies

    if map_method not in MAP_METHODS:
        raise ConfigError(f"--map must be one of {', '.join(MAP_METHODS)}, got {map_method!r}")
    options = ReportOptions(map_method=cast(MapMethod, map_method), seed=seed)
    model = load_model(model_dir)
    movies = read_movies(model_dir)
    settings = Settings.from_env(show_progress=False)
    named = read_manifest(model_dir).extra.get("dataset")
    dataset = None
    if dataset_name is not None:
        dataset = load_dataset(dataset_name, settings=settings)
    elif isinstance(named, str):
        try:
            dataset = load_dataset(named, settings=settings)
        except MatineeError as error:
            err_console.print(
                f"[yellow]warning:[/] dataset {named!r} not loaded: {error}", highlight=False
            )
    return build_report(model, dataset, out, movies=movies, options=options)
