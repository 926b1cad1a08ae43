"""Statistics of the benchmark: medians, spreads, ratios and target verdicts.

A ratio is always the median of our repetitions divided by the median of the
other contestant's, never a median of per-repetition ratios: repetitions are
interleaved, not paired, so pairing them would invent a relation that the
measurement does not have.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    """The repetitions of one contestant, reduced.

    Attributes
    ----------
    median : float
        Median seconds per repetition.
    low, high : float
        First and third quartiles of the seconds (equal to the median for fewer
        than two repetitions).
    count : int
        Number of repetitions.
    read_amplification : float or None
        Median bytes read from the device per byte requested, where the metric
        counts device reads; None otherwise.
    """

    median: float
    low: float
    high: float
    count: int
    read_amplification: float | None = None


def summarize(seconds: Sequence[float], amplification: Sequence[float] | None = None) -> Summary:
    """Reduce the repetitions of one contestant to a :class:`Summary`.

    Parameters
    ----------
    seconds : sequence of float
        Seconds of each repetition; at least one.
    amplification : sequence of float, optional
        Read amplification of each repetition.

    Returns
    -------
    Summary

    Raises
    ------
    ValueError
        ``seconds`` is empty or holds a negative or non-finite value.

    Examples
    --------
    >>> summarize([3.0, 1.0, 2.0]).median
    2.0
    """
    if not seconds:
        raise ValueError("no repetitions to summarize")
    if any(not math.isfinite(s) or s < 0 for s in seconds):
        raise ValueError(f"repetition times must be finite and non-negative, got {list(seconds)}")
    values = sorted(seconds)
    if len(values) >= 2:
        low, _, high = statistics.quantiles(values, n=4, method="inclusive")
    else:
        low = high = values[0]
    amp = statistics.median(amplification) if amplification else None
    return Summary(statistics.median(values), low, high, len(values), amp)


def ratio(ours: Summary, other: Summary) -> float:
    """Our median divided by the other contestant's median (below 1: we are faster).

    Parameters
    ----------
    ours, other : Summary

    Returns
    -------
    float
        ``inf`` if the other median is zero and ours is not.

    Examples
    --------
    >>> ratio(summarize([1.0, 2.0, 3.0]), summarize([4.0, 4.0, 5.0]))
    0.5
    """
    if other.median == 0:
        return math.inf if ours.median > 0 else 1.0
    return ours.median / other.median


@dataclass(frozen=True)
class Target:
    """A goal for one of our contestants: a ratio to another contestant, or a time.

    Attributes
    ----------
    ours : str
        Key of our contestant.
    limit : float
        The largest ratio (when ``reference`` is set) or the most seconds
        (when it is not) that meets the target.
    reference : str or None
        Key of the contestant the ratio is taken against; None for an
        absolute time.
    text : str
        The target as the report states it, e.g. ``"at most 0.5x numpy.memmap"``.
    """

    ours: str
    limit: float
    reference: str | None
    text: str


@dataclass(frozen=True)
class Verdict:
    """How a :class:`Target` fared.

    Attributes
    ----------
    target : Target
    value : float or None
        The measured ratio, or seconds for an absolute target; None when the
        target could not be measured.
    met : bool or None
        None when the target could not be measured.
    reason : str
        Why it could not be measured (empty otherwise).
    """

    target: Target
    value: float | None
    met: bool | None
    reason: str = ""

    @property
    def margin(self) -> float | None:
        """``value / limit``: at most 1 when met; how far over the limit when missed."""
        if self.value is None:
            return None
        return self.value / self.target.limit


def evaluate(target: Target, summaries: dict[str, Summary], missing: dict[str, str]) -> Verdict:
    """Judge ``target`` from the contestants' summaries.

    Parameters
    ----------
    target : Target
    summaries : dict of str to Summary
        The measured contestants, by key.
    missing : dict of str to str
        Contestants that were not measured, by key, with the reason.

    Returns
    -------
    Verdict
        Unmeasured (``met`` None, with the reason) if ours or the reference
        was not measured.

    Examples
    --------
    >>> t = Target("ours", 0.5, "memmap", "at most 0.5x numpy.memmap")
    >>> evaluate(t, {"ours": summarize([1.0]), "memmap": summarize([4.0])}, {}).met
    True
    """
    for key in (target.ours, target.reference):
        if key is None or key in summaries:
            continue
        return Verdict(target, None, None, missing.get(key, f"{key} was not measured"))
    ours = summaries[target.ours]
    value = ratio(ours, summaries[target.reference]) if target.reference is not None else ours.median
    return Verdict(target, value, value <= target.limit)
