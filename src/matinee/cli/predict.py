"""``matinee predict``: one user's predicted rating of one movie, from a saved model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from matinee.cli._options import JsonFlag
from matinee.cli.app import app, console, report
from matinee.cli.models import ModelDir
from matinee.settings import Settings

__all__ = ["predict_command"]


@app.command("predict")
def predict_command(
    model_dir: ModelDir,
    user_id: Annotated[int, typer.Argument(help="Raw MovieLens user id.")],
    movie_id: Annotated[int, typer.Argument(help="Raw MovieLens movie id.")],
    json_output: JsonFlag = False,
) -> None:
    """Predict one user's rating of one movie (raw MovieLens ids) with a saved model."""

    def show(summary: dict[str, Any]) -> None:
        what = "predicted rating" if summary["is_rating"] else "ranking score"
        title = f" ({summary['title']})" if summary.get("title") else ""
        console.print(
            f"user {user_id}, movie {movie_id}{title}: {what} [bold]{summary['prediction']:.3f}[/]"
        )

    report(lambda: _predict(model_dir, user_id, movie_id), json_output, show)


def _predict(model_dir: Path, user_id: int, movie_id: int) -> dict[str, Any]:
    from matinee.service import ModelBundle

    bundle = ModelBundle.load(model_dir, settings=Settings.from_env(show_progress=False))
    value = bundle.predict(user_id, [movie_id])[0]
    return {
        "model": bundle.manifest.model,
        "user_id": user_id,
        "movie_id": movie_id,
        "prediction": value,
        "is_rating": bundle.predicts_ratings,
        "title": bundle.movie(movie_id).title if bundle.catalog.has_titles else None,
    }
