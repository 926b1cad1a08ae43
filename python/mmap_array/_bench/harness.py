"""Contestants and the round-robin runner.

Each repetition runs every contestant once, in a freshly shuffled order: a
machine that slows down (another job, a CPU frequency change, writeback of an
earlier contestant's dirty pages) slows every contestant alike, and each runs
right after each other one about equally often. That matters: a contestant
inherits its predecessor's footprint. After ``np.fromfile`` has streamed 80 MB
through the CPU caches, the next open's system calls took 73 us instead of 5.
Rotating a fixed list by one per repetition, as this runner once did, keeps
every contestant's predecessor the same in all but one position of the cycle,
so one contestant paid that penalty in most repetitions and its neighbour
almost never.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import iocount

OURS = "ours"
ANCHOR = "anchor"
FLOOR = "floor"


class Unmeasurable(Exception):
    """This machine cannot produce the metric's numbers at all (e.g. files cannot be made cold).

    Raised by a repetition's preparation; it stops the whole metric, where any
    other error only drops the contestant that raised it.
    """


@dataclass(frozen=True)
class Measurement:
    """One repetition: seconds, and bytes the process read from the device meanwhile."""

    seconds: float
    device_bytes: int | None = None


@dataclass
class Contestant:
    """One way of doing a metric's job.

    Attributes
    ----------
    key : str
        Short unique name within the metric, used by targets and the plot.
    label : str
        What exactly it runs, as the report shows it.
    role : {"ours", "anchor", "floor"}
    measure : callable or None
        Runs one repetition and returns its :class:`Measurement`; None when
        the contestant cannot run here.
    unavailable : str
        Why ``measure`` is None (a library not installed, a feature not
        built yet); empty otherwise.
    note : str
        Anything a reader needs to interpret its numbers.
    apart : bool
        Run in rounds of its own, after the other contestants' rounds: set
        for a contestant shown for scale that sweeps so much memory (a full
        copy of the file) that it slows whatever runs after it far more than
        the others differ. Contestants whose ratio is a target never run apart.
    """

    key: str
    label: str
    role: str
    measure: Callable[[], Measurement] | None
    unavailable: str = ""
    note: str = ""
    apart: bool = False


@dataclass
class Samples:
    """Every repetition of every contestant of one metric, and what failed."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    amplification: dict[str, list[float]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def timed(
    run: Callable[[], Any],
    check: Callable[[Any], None] | None = None,
    *,
    before: Callable[[], None] | None = None,
    count_reads: bool = False,
) -> Callable[[], Measurement]:
    """Wrap ``run`` as a contestant's measure: ``before()``, then ``run()`` timed, then ``check``.

    Parameters
    ----------
    run : callable
        The timed work; what it returns is handed to ``check`` and then dropped
        (which unmaps whatever it mapped) before the next repetition.
    check : callable, optional
        Verifies the result outside the clock; raises if it is wrong.
    before : callable, optional
        Untimed preparation (eviction of the page cache, removal of an old file).
    count_reads : bool, default False
        Also record the bytes this process read from the device while ``run`` ran.

    Returns
    -------
    callable
        Returning a :class:`Measurement`.
    """

    def measure() -> Measurement:
        if before is not None:
            before()
        start_bytes = iocount.device_read_bytes() if count_reads else None
        start = time.perf_counter_ns()
        result = run()
        stop = time.perf_counter_ns()
        end_bytes = iocount.device_read_bytes() if count_reads else None
        if check is not None:
            check(result)
        device = end_bytes - start_bytes if start_bytes is not None and end_bytes is not None else None
        return Measurement((stop - start) / 1e9, device)

    return measure


def self_timed(
    run: Callable[[], float],
    *,
    before: Callable[[], None] | None = None,
    count_reads: bool = False,
) -> Callable[[], Measurement]:
    """Wrap ``run``, which times itself and returns seconds (the C++ floor, timeit loops).

    Parameters
    ----------
    run : callable
        Returns the seconds of the work it timed; it checks its own result.
    before : callable, optional
        Untimed preparation.
    count_reads : bool, default False
        Also record the bytes this process read from the device during ``run``.

    Returns
    -------
    callable
        Returning a :class:`Measurement`.
    """

    def measure() -> Measurement:
        if before is not None:
            before()
        start_bytes = iocount.device_read_bytes() if count_reads else None
        seconds = run()
        end_bytes = iocount.device_read_bytes() if count_reads else None
        device = end_bytes - start_bytes if start_bytes is not None and end_bytes is not None else None
        return Measurement(seconds, device)

    return measure


def round_orders(count: int, rounds: int, seed: int = 0) -> list[list[int]]:
    """The order of ``count`` contestants in each of ``rounds`` rounds: a shuffle per round.

    Parameters
    ----------
    count : int
        Contestants per round.
    rounds : int
        Rounds, warm-up rounds included.
    seed : int, default 0
        The same seed gives the same orders, so two runs of the bench are
        scheduled alike.

    Returns
    -------
    list of list of int
        Each a permutation of ``range(count)``. Over many rounds each
        contestant follows each other one (counting the previous round's last
        as the predecessor of a round's first) about equally often.
    """
    shuffler = random.Random(seed)
    orders = []
    for _ in range(rounds):
        order = list(range(count))
        shuffler.shuffle(order)
        orders.append(order)
    return orders


def run_round_robin(
    contestants: Sequence[Contestant],
    repetitions: int,
    *,
    warmup: int = 1,
    requested_bytes: int | None = None,
) -> Samples:
    """Run every available contestant ``repetitions`` times, interleaved in shuffled rounds.

    Parameters
    ----------
    contestants : sequence of Contestant
    repetitions : int
        Recorded repetitions of each contestant.
    warmup : int, default 1
        Unrecorded rounds first (imports, first-call caches, page tables).
    requested_bytes : int, optional
        Bytes each repetition asks for; with it, each measurement's device
        bytes become a read amplification.

    Returns
    -------
    Samples
        A contestant that raises is dropped from later rounds, with the error
        in ``failed``.

    Raises
    ------
    Unmeasurable
        From a contestant's preparation: the metric cannot be measured here.
    """
    if repetitions < 1:
        raise ValueError(f"repetitions must be at least 1, got {repetitions}")
    samples = Samples()
    active = [c for c in contestants if c.measure is not None]
    for c in active:
        samples.seconds[c.key] = []
        samples.amplification[c.key] = []
    # The collector could pause any repetition; nothing here builds reference cycles that
    # must be reclaimed in between (cold repetitions collect explicitly before evicting).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for group in ([c for c in active if not c.apart], [c for c in active if c.apart]):
            _run_rounds(group, repetitions, warmup, requested_bytes, samples)
    finally:
        if was_enabled:
            gc.enable()
    return samples


def _run_rounds(
    group: Sequence[Contestant], repetitions: int, warmup: int, requested_bytes: int | None, samples: Samples
) -> None:
    """Run ``group``'s contestants in ``warmup + repetitions`` shuffled rounds into ``samples``."""
    orders = round_orders(len(group), warmup + repetitions)
    for round_number in range(-warmup, repetitions):
        for position in orders[round_number + warmup]:
            contestant = group[position]
            if contestant.key in samples.failed:
                continue
            measure = contestant.measure
            assert measure is not None  # `active` holds only contestants that measure
            try:
                measurement = measure()
            except Unmeasurable:
                raise
            except Exception as error:  # noqa: BLE001 (a broken anchor must not stop the others)
                samples.failed[contestant.key] = f"{type(error).__name__}: {error}"
                continue
            if round_number < 0:
                continue
            samples.seconds[contestant.key].append(measurement.seconds)
            if requested_bytes and measurement.device_bytes is not None:
                samples.amplification[contestant.key].append(measurement.device_bytes / requested_bytes)
