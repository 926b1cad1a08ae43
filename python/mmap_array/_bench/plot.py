"""The picture of the report: ours / anchor for every metric, as bars on a log scale.

One bar per (metric, other contestant): left of 1 we are faster. A target is a
black tick on its bar's row, and the bar is green when the target is met, red
when it is missed, grey when that pair has no target; floor rows are hatched.
Targets that could not be measured are listed as text on their row, so the
picture never hides a gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .harness import FLOOR
from .metric import MetricResult
from .report import format_ratio
from .stats import ratio

_MET, _MISSED, _NO_TARGET = "#2e7d32", "#c62828", "#90a4ae"


@dataclass(frozen=True)
class Row:
    """One line of the plot: a ratio (or why there is none) and its target, if any."""

    label: str
    value: float | None
    limit: float | None = None
    met: bool | None = None
    floor: bool = False
    reason: str = ""


def rows_of(result: MetricResult) -> list[Row]:
    """The plot's rows for one metric: our primary contestant against each other, then other targets."""
    rows: list[Row] = []
    primary = result.primary
    ours = result.summaries.get(primary)
    judged = {(v.target.ours, v.target.reference): v for v in result.verdicts}
    for c in result.contestants:
        if c.key == primary or c.role == "ours":
            continue
        verdict = judged.get((primary, c.key))
        other = result.summaries.get(c.key)
        if ours is not None and other is not None:
            rows.append(Row(f"vs {c.key}", ratio(ours, other), verdict.target.limit if verdict else None,
                            verdict.met if verdict else None, c.role == FLOOR))
        elif verdict is not None:
            rows.append(Row(f"vs {c.key}", None, verdict.target.limit, None, c.role == FLOOR, verdict.reason))
    for verdict in result.verdicts:
        target = verdict.target
        if target.reference is not None and target.ours == primary:
            continue  # drawn above, on the row of its reference
        if target.reference is None:
            label = f"{target.ours} / {target.limit * 1e9:g} ns budget"
            value = verdict.value / target.limit if verdict.value is not None else None
            rows.append(Row(label, value, 1.0, verdict.met, reason=verdict.reason))
        else:
            rows.append(Row(f"{target.ours} vs {target.reference}", verdict.value, target.limit, verdict.met,
                            reason=verdict.reason))
    return rows


def draw(results: Sequence[MetricResult], path: str, title: str) -> None:
    """Write the plot of ``results`` as a PNG to ``path``.

    Parameters
    ----------
    results : sequence of MetricResult
    path : str
        The PNG to write.
    title : str
        The figure's title (the machine and the date, typically).

    Raises
    ------
    ImportError
        matplotlib is not installed.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    groups = [(r.title, rows_of(r)) for r in results]
    count = sum(1 + len(rows) for _, rows in groups)
    values = [row.value for _, rows in groups for row in rows if row.value] + [
        row.limit for _, rows in groups for row in rows if row.limit
    ]
    low = min(values + [1.0]) / 3
    high = max(values + [1.0]) * 3

    figure = Figure(figsize=(11, 0.32 * count + 1.6), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    ticks, labels, y = [], [], 0.0
    for title_text, rows in groups:
        ticks.append(y)
        labels.append(title_text)
        y -= 1
        for row in rows:
            ticks.append(y)
            labels.append("    " + row.label)
            if row.value is not None and row.value > 0:
                color = _NO_TARGET if row.met is None else (_MET if row.met else _MISSED)
                axes.barh(y, row.value, left=0, height=0.7, color=color, hatch="//" if row.floor else None,
                          edgecolor="white" if row.floor else color)
                # Right of the target tick too, so the tick never hides the number.
                axes.text(max(row.value, row.limit or 0) * 1.1, y, format_ratio(row.value), va="center", fontsize=8)
            else:
                axes.text(low * 1.15, y, f"not measured: {row.reason}"[:100], va="center", fontsize=7.5,
                          color="#555555", style="italic", bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
            if row.limit is not None:
                axes.plot([row.limit, row.limit], [y - 0.45, y + 0.45], color="black", linewidth=2.2)
            y -= 1
    axes.set_xscale("log")
    axes.set_xlim(low, high)
    axes.set_ylim(y + 0.5, 0.8)
    axes.set_yticks(ticks, labels, fontsize=8.5)
    for tick, text in zip(axes.get_yticklabels(), labels):
        if not text.startswith(" "):
            tick.set_fontweight("bold")
    axes.axvline(1.0, color="#333333", linestyle="--", linewidth=1)
    axes.set_xlabel("ours / other (median time; left of 1: ours is faster; log scale)")
    axes.grid(axis="x", which="major", color="#dddddd")
    axes.set_axisbelow(True)
    figure.suptitle(title, fontsize=10)
    figure.legend(
        handles=[
            Patch(color=_MET, label="target met"),
            Patch(color=_MISSED, label="target missed"),
            Patch(color=_NO_TARGET, label="no target for this pair"),
            Patch(facecolor=_NO_TARGET, hatch="//", edgecolor="white", label="physical floor"),
            Line2D([], [], color="black", linewidth=2.2, label="target (at most)"),
        ],
        loc="outside lower center", ncols=5, fontsize=8, frameon=False,
    )
    figure.savefig(path, dpi=110)

