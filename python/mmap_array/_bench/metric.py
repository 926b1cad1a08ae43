"""A metric: its contestants, targets and results, and how one is run.

Metric families (``metrics/``) build contestants and targets; this module runs
them round-robin, reduces the samples and judges the targets, or records why the
whole metric could not be measured here (a cold metric on tmpfs).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType

from .harness import OURS, Contestant, Measurement, Unmeasurable, run_round_robin
from .stats import Summary, Target, Verdict, evaluate, summarize


@dataclass
class MetricResult:
    """Everything the report and the plot show about one metric.

    Attributes
    ----------
    key : str
        Stable identifier (``--only`` takes these).
    title : str
        The metric as the targets table names it.
    what : str
        What one repetition does, in a sentence or two.
    contestants : list of Contestant
    summaries : dict of str to Summary
        The measured contestants, by key.
    missing : dict of str to str
        Contestants not measured, by key, with the reason.
    verdicts : list of Verdict
    unmeasurable : str
        Why the whole metric could not be measured here; empty if it was.
    counts_reads : bool
        Whether read amplification was recorded.
    """

    key: str
    title: str
    what: str
    contestants: list[Contestant]
    summaries: dict[str, Summary] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    verdicts: list[Verdict] = field(default_factory=list)
    unmeasurable: str = ""
    counts_reads: bool = False

    @property
    def primary(self) -> str:
        """Key of our contestant the ratio column is about: the one the first target judges."""
        if self.verdicts:
            return self.verdicts[0].target.ours
        return next(c.key for c in self.contestants if c.role == OURS)

    def contestant(self, key: str) -> Contestant:
        """The contestant called ``key``."""
        for c in self.contestants:
            if c.key == key:
                return c
        raise KeyError(key)


def optional_module(name: str) -> tuple[ModuleType | None, str]:
    """Import an anchor's library: ``(module, "")``, or ``(None, why not)``."""
    try:
        return importlib.import_module(name), ""
    except ImportError as error:
        return None, f"{name} is not installed ({error})"


def optional_contestant(
    key: str,
    label: str,
    role: str,
    module: str,
    make: Callable[[ModuleType], Callable[[], Measurement]],
    note: str = "",
) -> Contestant:
    """A contestant that needs ``module``: unavailable, with the reason, when it is missing."""
    found, reason = optional_module(module)
    if found is None:
        return Contestant(key, label, role, None, unavailable=reason, note=note)
    return Contestant(key, label, role, make(found), note=note)


def run_metric(
    key: str,
    title: str,
    what: str,
    contestants: Sequence[Contestant],
    targets: Sequence[Target],
    repetitions: int,
    *,
    warmup: int = 1,
    requested_bytes: int | None = None,
) -> MetricResult:
    """Run ``contestants`` round-robin and judge ``targets``.

    Parameters
    ----------
    key, title, what
        As in :class:`MetricResult`.
    contestants : sequence of Contestant
        Keys must be unique.
    targets : sequence of Target
        Their keys must name contestants.
    repetitions : int
        Recorded repetitions of each contestant.
    warmup : int, default 1
        Unrecorded rounds first.
    requested_bytes : int, optional
        Bytes one repetition asks for: read amplification is then reported.

    Returns
    -------
    MetricResult
        Unmeasurable, with the reason, if a repetition found the machine
        unable to produce the metric (no partial numbers are kept).
    """
    _check_keys(contestants, targets)
    try:
        samples = run_round_robin(contestants, repetitions, warmup=warmup, requested_bytes=requested_bytes)
    except Unmeasurable as error:
        return unmeasurable_metric(key, title, what, contestants, targets, str(error))
    result = MetricResult(key, title, what, list(contestants), counts_reads=requested_bytes is not None)
    for c in contestants:
        if c.measure is None:
            result.missing[c.key] = c.unavailable
        elif c.key in samples.failed:
            result.missing[c.key] = f"failed: {samples.failed[c.key]}"
        else:
            result.summaries[c.key] = summarize(samples.seconds[c.key], samples.amplification[c.key] or None)
    result.verdicts = [evaluate(t, result.summaries, result.missing) for t in targets]
    return result


def unmeasurable_metric(
    key: str, title: str, what: str, contestants: Sequence[Contestant], targets: Sequence[Target], reason: str
) -> MetricResult:
    """A metric that cannot be measured here at all: every contestant and target says why."""
    _check_keys(contestants, targets)
    result = MetricResult(key, title, what, list(contestants), unmeasurable=reason)
    result.missing = {c.key: c.unavailable or reason for c in contestants}
    result.verdicts = [Verdict(t, None, None, reason) for t in targets]
    return result


def _check_keys(contestants: Sequence[Contestant], targets: Sequence[Target]) -> None:
    keys = [c.key for c in contestants]
    if len(set(keys)) != len(keys):
        raise ValueError(f"contestant keys repeat: {keys}")
    apart = {c.key for c in contestants if c.apart}
    for t in targets:
        for k in (t.ours, t.reference):
            if k is not None and k not in keys:
                raise ValueError(f"target {t.text!r} names {k!r}, which is not a contestant")
            if k in apart:
                raise ValueError(f"target {t.text!r} names {k!r}, which runs apart from the others")
