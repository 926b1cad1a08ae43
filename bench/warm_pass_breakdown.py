"""Where a warm open + first pass spends its time beyond the same pass in RAM.

    python bench/warm_pass_breakdown.py [--mb 80] [--repeat 41] [--dir /var/tmp/...]

The bench's warm-pass metrics compare "open the file and sum it" with "sum the
same values held in an ordinary array". This splits the difference, for both
ways the page cache may hold the file (``read()`` leaves mostly small folios,
``populate()`` leaves 2 MiB ones), by timing in shuffled, interleaved rounds:

* ``in RAM``: ``np.sum`` over an ordinary array (the reference);
* ``mapped, pages already mapped``: the same sum over a mapping whose pages were
  mapped before the clock: what the sum itself costs through the page cache;
* ``open + sum``: a fresh handle; the mapping is dropped after the clock;
* ``open + sum + unmap``: the same, dropped inside the clock, as the bench does;
* ``open + populate(threads=1) + sum``: the pages mapped in one call instead of
  one fault at a time.

Each row also shows the minor page faults of a repetition. The gap between the
second row and the third is the kernel's work of mapping the cached pages.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import mmap_array
from mmap_array._bench.cache import make_warm


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure(ways: dict[str, Callable[[], object]], repeat: int) -> dict[str, tuple[float, float]]:
    """Median seconds and median minor faults per repetition of each way."""
    times: dict[str, list[float]] = {name: [] for name in ways}
    faults: dict[str, list[int]] = {name: [] for name in ways}
    names = list(ways)
    shuffler = random.Random(0)
    gc.disable()
    try:
        for round_number in range(repeat + 1):
            shuffler.shuffle(names)
            for name in names:
                faults_before = minor_faults()
                start = time.perf_counter()
                result = ways[name]()
                seconds = time.perf_counter() - start
                taken = minor_faults() - faults_before
                del result
                if round_number > 0:  # the first round warms up
                    times[name].append(seconds)
                    faults[name].append(taken)
    finally:
        gc.enable()
    return {name: (statistics.median(times[name]), statistics.median(faults[name])) for name in ways}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=80)
    parser.add_argument("--repeat", type=int, default=41)
    parser.add_argument("--dir", default="/var/tmp/mmap_array-warm-pass")
    args = parser.parse_args()

    path = Path(args.dir) / "values.f64"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.random.default_rng(0).random(args.mb * 1_000_000 // 8).tofile(path)
    in_ram = np.fromfile(path)
    expected = float(np.sum(in_ram))

    # These return the mapping with the sum, so that it is dropped (and unmapped) after the clock.
    def open_sum_kept() -> tuple[float, np.ndarray]:
        values = mmap_array.MemoryMappedArray(path).get_array()
        return float(np.sum(values)), values

    def open_populate_sum_kept() -> tuple[float, np.ndarray]:
        handle = mmap_array.MemoryMappedArray(path)
        handle.populate(threads=1)
        values = handle.get_array()
        return float(np.sum(values)), values

    print(f"open + np.sum of a {args.mb} MB float64 file, medians of {args.repeat}")
    for state, populate in (("page cache filled by read()", False), ("page cache filled by populate()", True)):
        resident, total = make_warm(str(path), reload=True, populate=populate)
        if resident != total:
            raise SystemExit(f"only {resident} of {total} pages of {path} stayed cached: memory is short")
        mapped = mmap_array.MemoryMappedArray(path)
        mapped.populate()
        mapped_values = mapped.get_array()
        ways: dict[str, Callable[[], object]] = {
            "in RAM": lambda: float(np.sum(in_ram)),
            "mapped, pages already mapped": lambda: float(np.sum(mapped_values)),
            "open + sum": open_sum_kept,
            "open + sum + unmap": lambda: float(np.sum(mmap_array.MemoryMappedArray(path).get_array())),
            "open + populate(threads=1) + sum": open_populate_sum_kept,
        }
        for name, way in ways.items():
            result = way()
            if (result[0] if isinstance(result, tuple) else result) != expected:
                raise SystemExit(f"{name} summed to another value")
            del result
        medians = measure(ways, args.repeat)
        reference = medians["in RAM"][0]
        print(f"\n{state}:")
        for name, (seconds, faults) in medians.items():
            print(f"  {name:<34} {seconds * 1e3:7.3f} ms  {seconds / reference:5.3f}x in RAM  "
                  f"{faults:6.0f} faults")
        del mapped_values, mapped
    path.unlink()


if __name__ == "__main__":
    main()
