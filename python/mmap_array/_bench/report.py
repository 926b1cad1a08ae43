"""The Markdown report: targets with verdicts, the machine, and a table per metric."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .harness import FLOOR, OURS
from .metric import MetricResult
from .scale import Scale, describe_sizes
from .stats import Verdict, ratio


def format_seconds(seconds: float) -> str:
    """A duration with a unit that keeps three significant digits: ``92.3 ns``, ``8.10 µs``, ``1.25 s``.

    Examples
    --------
    >>> format_seconds(8.1e-6)
    '8.10 µs'
    """
    # A value that rounds up to 1000 of a unit is shown in the next unit: "1.00 ms", not "1000 µs".
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= factor * 0.9995:
            return f"{_three_digits(seconds / factor)} {unit}"
    return f"{_three_digits(seconds / 1e-9)} ns"


def format_ratio(value: float) -> str:
    """A ratio with three significant digits: ``0.420x``, ``1.05x``, ``170x``."""
    if math.isinf(value):
        return "inf"
    return f"{_three_digits(value)}x"


def _three_digits(value: float) -> str:
    if value == 0:
        return "0"
    rounded = float(f"{value:.3g}")  # 0.9999 must become "1.00", not "1.000"
    digits = max(0, 2 - math.floor(math.log10(abs(rounded))))
    return f"{rounded:.{digits}f}"


def format_measured(verdict: Verdict) -> str:
    """The measured value of a verdict: a ratio, or a time for an absolute target."""
    if verdict.value is None:
        return "—"
    if verdict.target.reference is None:
        return format_seconds(verdict.value)
    return format_ratio(verdict.value)


def format_verdict(verdict: Verdict) -> str:
    """``met (16% under the limit)``, ``missed (1.60x the limit)`` or ``not measured: why``."""
    if verdict.met is None:
        return f"not measured: {verdict.reason}"
    margin = verdict.margin
    assert margin is not None  # a verdict met or missed has its margin
    if verdict.met:
        return f"**met** ({(1 - margin) * 100:.0f}% under the limit)"
    return f"**missed** ({format_ratio(margin)} the limit)"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def targets_table(results: Sequence[MetricResult]) -> list[str]:
    """Every target of every metric, with the measured value and the verdict."""
    lines = ["| metric | target | measured | verdict |", "|---|---|---:|---|"]
    for result in results:
        for verdict in result.verdicts:
            lines.append(
                f"| {_escape(result.title)} | {_escape(verdict.target.text)} | {format_measured(verdict)} "
                f"| {_escape(format_verdict(verdict))} |"
            )
    return lines


def metric_section(result: MetricResult) -> list[str]:
    """The heading, description and contestant table of one metric."""
    # The anchor names the metric by its --only key, for links and for tools reading the report.
    lines = [f'<a id="{result.key}"></a>', "", f"### {result.title}", "", result.what, ""]
    if result.unmeasurable:
        lines += [f"**Not measurable here:** {result.unmeasurable}", ""]
    primary = result.summaries.get(result.primary)
    header = "| contestant | runs | median | middle half | ours / this |"
    rule = "|---|---|---:|---:|---:|"
    if result.counts_reads:
        header += " read amplification |"
        rule += "---:|"
    lines += [header, rule]
    notes = []
    for c in result.contestants:
        name = f"**{c.key}**" if c.role == OURS else (f"*{c.key}* (floor)" if c.role == FLOOR else c.key)
        summary = result.summaries.get(c.key)
        if summary is None:
            cells = ["—", "—", "—"]
            notes.append(f"{c.key}: {result.missing.get(c.key, 'not measured')}")
        else:
            share = format_ratio(ratio(primary, summary)) if primary is not None else "—"
            cells = [format_seconds(summary.median),
                     f"{format_seconds(summary.low)} – {format_seconds(summary.high)}", share]
        row = f"| {name} | `{_escape(c.label)}` | " + " | ".join(cells) + " |"
        if result.counts_reads:
            amp = summary.read_amplification if summary is not None else None
            row += f" {amp:.2f} |" if amp is not None else " — |"
        lines.append(row)
        if c.note:
            notes.append(f"{c.key}: {c.note}")
    counts = {s.count for s in result.summaries.values()}
    if counts:
        lines += ["", f"Repetitions per contestant: {', '.join(str(n) for n in sorted(counts))}."]
    if notes:
        lines += [""] + [f"- {_escape(n)}" for n in notes]
    return lines + [""]


def render(
    results: Sequence[MetricResult],
    machine: dict[str, str],
    scale: Scale,
    plot_path: str | None,
) -> str:
    """The whole report as Markdown.

    Parameters
    ----------
    results : sequence of MetricResult
    machine : dict of str to str
        From ``system.describe``.
    scale : Scale
    plot_path : str or None
        The plot, relative to the report, to show near the top.

    Returns
    -------
    str
    """
    lines = [
        "# Benchmarks",
        "",
        (f"Measured by `mmap-array bench{' --quick' if scale.name == 'quick' else ''}` on {machine['date']}; "
         "run it to measure your own machine."),
        "",
    ]
    if scale.name == "quick":
        lines += [
            ("> **Quick run:** files are scaled down (sizes below) and repetitions are few. "
             "These numbers show that every metric runs; they are not the ones the targets are about."),
            "",
        ]
    lines += [
        ("Every metric runs all its contestants in one process, round-robin: each repetition runs each "
         "contestant once, in an order shuffled every repetition, so a busy machine slows them alike and "
         "each contestant runs after each other one (and inherits its cache footprint) about equally often. "
         "Times are medians; *ours / this* is our median divided by that contestant's median "
         "(below 1: ours is faster). The middle half is the first to third quartile. "
         "Every timed read touches every byte it claims to read (a sum or a checksum), and every result "
         "is checked outside the clock."),
        "",
    ]
    if plot_path is not None:
        lines += [f"![ours / anchor for every metric, log scale, with the targets]({plot_path})", ""]
    lines += ["## Targets", ""] + targets_table(results) + [""]
    lines += ["## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {_escape(value)} |" for key, value in machine.items()]
    lines += ["", "## Sizes", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in describe_sizes(scale).items()]
    lines += ["", "## Metrics", ""]
    for result in results:
        lines += metric_section(result)
    return "\n".join(lines).rstrip() + "\n"
