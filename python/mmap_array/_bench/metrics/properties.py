"""A property read or a size() call on an open handle: the per-call cost of the API.

One repetition times a loop of many calls with ``timeit`` (the handle bound to
a local, the garbage collector off) and divides by the count. The loop's own
cost is included in every row, so the numbers are upper bounds; the empty loop
is shown as the floor so it can be read off.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from typing import Any

import numpy as np

from ... import MemoryMappedArray
from ..context import Context
from ..harness import ANCHOR, FLOOR, OURS, Contestant, self_timed
from ..metric import MetricResult, run_metric
from ..stats import Target

_BUDGET_SECONDS = 150e-9


def _per_call(statement: str, subject: Any, calls: int) -> Callable[[], float]:
    timer = timeit.Timer(statement, setup="h = subject", globals={"subject": subject})
    return lambda: timer.timeit(calls) / calls


def property_read(ctx: Context) -> MetricResult:
    """mm.shape and mm.size() against the same reads on numpy.memmap and ndarray."""
    path = ctx.raw().path
    calls = ctx.scale.property_calls
    handle = MemoryMappedArray(path)
    memmap = np.memmap(path, np.float64, mode="r")
    array = handle.get_array()
    contestants = [
        Contestant("ours shape", "mm.shape (MemoryMappedArray)", OURS, self_timed(_per_call("h.shape", handle, calls))),
        Contestant("ours size()", "mm.size() (MemoryMappedArray)", OURS, self_timed(_per_call("h.size()", handle, calls))),
        Contestant("ours nbytes", "mm.nbytes (MemoryMappedArray)", OURS,
                   self_timed(_per_call("h.nbytes", handle, calls))),
        Contestant("numpy.memmap shape", "numpy.memmap .shape", ANCHOR, self_timed(_per_call("h.shape", memmap, calls))),
        Contestant("ndarray size", "ndarray .size", ANCHOR, self_timed(_per_call("h.size", array, calls))),
        Contestant("ndarray shape", "ndarray .shape", ANCHOR, self_timed(_per_call("h.shape", array, calls))),
        Contestant("empty loop", "one iteration of the timing loop, doing nothing", FLOOR,
                   self_timed(_per_call("pass", None, calls)), note="included in every other row"),
    ]
    targets = [
        Target("ours shape", _BUDGET_SECONDS, None, "a property read at most 150 ns"),
        Target("ours size()", _BUDGET_SECONDS, None, "a size() call at most 150 ns"),
    ]
    return run_metric(
        "property_read", "a property read or size() call",
        f"Per call, from a loop of {calls:,} calls on an open handle (loop overhead included).",
        contestants, targets, ctx.scale.fast_reps, warmup=2,
    )
