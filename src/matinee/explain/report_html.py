"""The report's HTML page and its atomic folder swap (split from :mod:`.report`)."""

from __future__ import annotations

import base64
import dataclasses
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from matinee.data.dataset import Dataset
from matinee.models.base import Recommender

__all__ = [
    "REPORT_MARKER",
    "REPORT_MARKER_TEXT",
    "Section",
    "is_report",
    "page",
    "table",
    "titles_per_factor",
]

REPORT_MARKER = ".matinee-report"
REPORT_MARKER_TEXT = "matinee explain report\n"
"""What the marker file holds: a folder holding it is a report that a new one may replace."""


def is_report(folder: Path) -> bool:
    """Whether ``folder`` holds a report written by ``build_report`` (its marker file)."""
    try:
        return (folder / REPORT_MARKER).read_text(encoding="utf-8") == REPORT_MARKER_TEXT
    except (OSError, UnicodeDecodeError):
        return False


"""File that marks a folder as a Matinee report, which a later report may replace."""


@dataclass
class Section:
    """One analysis of the report: a title, a sentence, PNG file names and HTML tables."""

    title: str
    intro: str = ""
    images: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)


def table(frame: pl.DataFrame, caption: str = "") -> str:
    """An HTML table of ``frame``: lists joined with commas, floats to 3 decimals, nulls blank."""

    def cell(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, list):
            return html.escape(", ".join(str(v) for v in value))
        if isinstance(value, float):
            return f"{value:.3f}"
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in frame.iter_rows()
    )
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def titles_per_factor(frame: pl.DataFrame, unit: str) -> pl.DataFrame:
    """One row per factor of a ``top_movies_per_factor`` frame with its titles as a list."""
    return (
        frame.group_by("factor", maintain_order=True)
        .agg(pl.col("title").alias("top movies"))
        .rename({"factor": unit})
    )


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;margin-top:2em}
img{max-width:100%;display:block;margin:1em 0}
table{border-collapse:collapse;margin:1em 0;font-size:.85em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eef4fa} caption{font-weight:bold;text-align:left;padding:.3em 0}
.meta{color:#555} li{margin:.2em 0}
"""


def page(
    model: Recommender[Any],
    dataset: Dataset | None,
    sections: list[Section],
    skipped: list[tuple[str, str]],
    folder: Path,
) -> str:
    """The self-contained page: a header, each section with its images inlined, the skips."""
    data = dataset.name if dataset is not None else "no dataset (ids only)"
    config = html.escape(", ".join(f"{k}={v}" for k, v in dataclasses.asdict(model.config).items()))
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Matinee: what {html.escape(model.name)} learned</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>What {html.escape(model.name)} learned</h1>",
        f"<p class='meta'>{model.n_users:,} users, {model.n_movies:,} movies; data: "
        f"{html.escape(data)}; config: {config}</p>",
        "<ul>"
        + "".join(
            f"<li><a href='#s{i}'>{html.escape(s.title)}</a></li>" for i, s in enumerate(sections)
        )
        + "</ul>",
    ]
    for i, section in enumerate(sections):
        parts.append(
            f"<h2 id='s{i}'>{html.escape(section.title)}</h2><p>{html.escape(section.intro)}</p>"
        )
        for name in section.images:
            encoded = base64.b64encode((folder / name).read_bytes()).decode("ascii")
            parts.append(
                f"<img alt='{html.escape(section.title)}' src='data:image/png;base64,{encoded}'>"
            )
        parts.extend(section.tables)
    if skipped:
        items = "".join(f"<li><b>{html.escape(t)}</b>: {html.escape(r)}</li>" for t, r in skipped)
        parts.append(f"<h2>Skipped</h2><ul>{items}</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)
