"""``mmap-array demo``: the seed tutorial's scenario, side by side with NumPy.

Writes N random float64 values to a raw file, maps it, and prints the open
time, size, mean, max and the equality check, beside the same steps done with
``numpy.memmap`` and ``np.fromfile``. Repetitions of the three ways are
interleaved so that a noisy machine slows them alike, and medians are shown.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from ._bench.harness import round_orders
from ._core import MemoryMappedArray
from ._writers import write_binary

_T = TypeVar("_T")


def add_demo_command(commands: argparse._SubParsersAction) -> None:
    """Register ``demo`` on the CLI's subcommand parser."""
    parser = commands.add_parser(
        "demo",
        help="run the seed tutorial's scenario beside numpy.memmap and np.fromfile",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    parser.add_argument("--n", type=int, default=10_000_000, help="number of float64 values (default: 10,000,000)")
    parser.add_argument("--repeat", type=int, default=15, help="timed repetitions of each way to open (default: 15)")
    parser.add_argument("--dir", default=None, help="directory for the data file (default: a new temporary directory)")
    parser.set_defaults(run=run_demo)


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def _time(call: Callable[[], _T]) -> tuple[float, _T]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo; return the exit status (1 if the data did not match)."""
    if args.n < 1:
        raise ValueError(f"--n must be at least 1, got {args.n}")
    if args.repeat < 1:
        raise ValueError(f"--repeat must be at least 1, got {args.repeat}")
    if args.dir is None:
        with tempfile.TemporaryDirectory(prefix="mmap_array-demo-") as directory:
            return _demo(args.n, args.repeat, directory)
    return _demo(args.n, args.repeat, args.dir)


def _demo(n: int, repeat: int, directory: str) -> int:
    path = os.path.join(directory, "test_data.bin")
    data = np.random.default_rng().random(n)
    print(f"mmap_array demo: {n:,} float64 values ({data.nbytes / 1e6:.1f} MB) in {path}\n")

    write_seconds, _ = _time(lambda: write_binary(path, data))
    # ndarray.tofile writes in place: a failure (full disk) leaves a partial file to remove.
    try:
        tofile_seconds, _ = _time(lambda: data.tofile(path + ".tofile"))
    finally:
        if os.path.exists(path + ".tofile"):
            os.unlink(path + ".tofile")
    print("write the file            time")
    print(f"  mmap_array.write_binary  {write_seconds * 1e3:9.2f} ms  (atomic: temporary + rename)")
    print(f"  ndarray.tofile           {tofile_seconds * 1e3:9.2f} ms  (in place)\n")

    ways: dict[str, Callable[[], np.ndarray]] = {
        "mmap_array.MemoryMappedArray": lambda: MemoryMappedArray(path).get_array(),
        "numpy.memmap": lambda: np.memmap(path, dtype=np.float64, mode="r"),
        "np.fromfile (reads it all)": lambda: np.fromfile(path, dtype=np.float64),
    }
    steps = ("open + get", "mean", "max")
    samples: dict[str, dict[str, list[float]]] = {name: {step: [] for step in steps} for name in ways}
    arrays: dict[str, np.ndarray] = {}
    names = list(ways)
    for order in round_orders(len(names), repeat):
        # Each way opens right after another way's mean and max swept 80 MB through the CPU
        # caches; shuffling the order each round spreads any difference between those
        # predecessors evenly (see _bench.harness).
        for name in (names[i] for i in order):
            seconds, arrays[name] = _time(ways[name])
            samples[name]["open + get"].append(seconds)
            samples[name]["mean"].append(_time(lambda: np.mean(arrays[name]))[0])
            samples[name]["max"].append(_time(lambda: np.max(arrays[name]))[0])

    ours = _median_ms(samples["mmap_array.MemoryMappedArray"]["open + get"])
    print(f"median of {repeat}, ms              open + get  vs ours       mean        max")
    for name in ways:
        open_ms = _median_ms(samples[name]["open + get"])
        print(
            f"  {name:<28} {open_ms:10.3f} {open_ms / ours:8.2f}x"
            f" {_median_ms(samples[name]['mean']):10.2f} {_median_ms(samples[name]['max']):10.2f}"
        )

    mm = MemoryMappedArray(path)
    arr = mm.get_array()
    print(f"\nsize: {mm.size():,} elements")
    print("mean:", np.mean(arr))
    print("max: ", np.max(arr))
    matches = bool(np.array_equal(arr, data))
    anchors_agree = all(np.array_equal(a, data) for a in arrays.values())
    print("data matches original:", "OK" if matches else "MISMATCH")
    print("numpy.memmap and np.fromfile read the same values:", "OK" if anchors_agree else "MISMATCH")
    return 0 if matches and anchors_agree else 1
