"""The picture of a search: each trial's value with the best so far, and value against each field.

Drawn from a :class:`~matinee.evaluation.tuning.TuneResult` (no computation here); pruned trials
are hollow, at the last value they reported.
"""

from __future__ import annotations

import math

import numpy as np

from matinee.evaluation.tuning import TuneResult
from matinee.explain.plots import OKABE_ITO, Figure, new_figure
from matinee.models.search import Choice, FloatRange, IntRange

__all__ = ["plot_search"]

MAX_FIELD_PANELS = 4


def plot_search(result: TuneResult) -> Figure:
    """Trial values over the search (best so far as a step line), then value per searched field."""
    fields = list(result.space)[:MAX_FIELD_PANELS]
    figure = new_figure(3.2 * (1 + len(fields)), 3.2)
    axes = figure.subplots(1, 1 + len(fields), squeeze=False)[0]
    scored = [t for t in result.trials if t.value is not None and math.isfinite(t.value)]
    complete = [t for t in scored if t.state == "complete"]
    pruned = [t for t in scored if t.state == "pruned"]
    history = axes[0]
    history.scatter([t.number for t in complete], [t.value for t in complete], color=OKABE_ITO[0])
    history.scatter(
        [t.number for t in pruned],
        [t.value for t in pruned],
        facecolors="none",
        edgecolors=OKABE_ITO[1],
        label="pruned",
    )
    if complete:
        lower = result.metric.partition("@")[0] in ("rmse", "mae", "mape")
        values = [t.value for t in complete if t.value is not None]
        best = np.minimum.accumulate(values) if lower else np.maximum.accumulate(values)
        history.step(
            [t.number for t in complete],
            best,
            where="post",
            color=OKABE_ITO[2],
            label="best so far",
        )
    history.set_xlabel("trial")
    history.set_ylabel(f"{result.metric} (inner splits)")
    history.legend(fontsize=8)
    for axis, name in zip(axes[1:], fields, strict=True):
        dim = result.space[name]
        xs = [t.params.get(name) for t in complete]
        if isinstance(dim, Choice):
            labels = [str(value) for value in dim.values]
            xs = [labels.index(str(x)) for x in xs]
            axis.set_xticks(range(len(labels)), labels)
        axis.scatter(xs, [t.value for t in complete], color=OKABE_ITO[0])
        if isinstance(dim, IntRange | FloatRange) and dim.log:
            axis.set_xscale("log")
        axis.set_xlabel(name)
    figure.suptitle(f"{result.model}: {len(result.trials)} trials, TPE")
    return figure
