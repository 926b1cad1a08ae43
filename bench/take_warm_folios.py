"""Warm gathers through a fresh handle, for the two ways the page cache may hold a file.

    python bench/take_warm_folios.py [--gib 4] [--rows 20000] [--repeat 15] [--dir /var/tmp/...]

A page fault on a cached file maps the folio it lands in (up to 2 MiB at once)
or, for small folios, the 16 pages around it. So a gather of random 4 KiB rows
through a fresh mapping costs one fault per 2 MiB when the file sits in 2 MiB
folios, and one fault per row, each mapping and later unmapping 16 pages, when
it sits in small ones. ``take`` reads such rows with ``pread`` instead.

Writes a file of 4 KiB rows in 128 KiB pieces (the page cache keeps it in small
folios), then evicts it and reads it back in 16 MiB reads (large folios). In each
state it times, interleaved in shuffled rounds:

* ``MemoryMappedArray(path, ...).take(idx)``: open + gather, the handle dropped
  (and unmapped) inside the clock;
* ``np.memmap(path, ...)[idx]``: the same with numpy;
* ``in_ram[idx]``: fancy indexing on the file's contents held in an ordinary array.

Prints medians and ours / in-RAM.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import mmap_array
from mmap_array._bench.cache import make_warm

ROW = 4096
COLUMNS = ROW // 8
PIECE = 128 << 10


def write_in_pieces(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    block = rng.integers(0, 2**63, size=(16 << 20) // 8, dtype=np.uint64).tobytes()
    with open(path, "wb") as f:
        written, size = 0, rows * ROW
        while written < size:
            for start in range(0, len(block), PIECE):
                if written >= size:
                    break
                piece = min(PIECE, size - written)  # the last one may be short: exactly `rows` rows
                f.write(block[start : start + piece])
                written += piece


def read_back(path: Path) -> None:
    resident, total = make_warm(str(path), reload=True)  # evicted, then read in 16 MiB reads
    if resident != total:
        raise SystemExit(f"only {resident} of {total} pages of {path} stayed cached: memory is short")


def measure(ways: dict[str, Callable[[], np.ndarray]], repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in ways}
    names = list(ways)
    shuffler = random.Random(0)
    gc.disable()
    try:
        for round_number in range(repeat + 1):
            shuffler.shuffle(names)
            for name in names:
                start = time.perf_counter()
                result = ways[name]()
                seconds = time.perf_counter() - start
                del result
                if round_number > 0:  # the first round warms up
                    times[name].append(seconds)
    finally:
        gc.enable()
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=4.0)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--dir", default="/var/tmp/mmap_array-take-warm")
    args = parser.parse_args()

    path = Path(args.dir) / "rows.u64"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = int(args.gib * (1 << 30)) // ROW
    indices = np.random.default_rng(1).integers(0, rows, size=args.rows)
    shape = (rows, COLUMNS)
    write_in_pieces(path, rows)
    in_ram = np.fromfile(path, np.uint64).reshape(shape)
    expected = in_ram[indices]
    if not np.array_equal(mmap_array.MemoryMappedArray(path, np.uint64, shape=shape).take(indices), expected):
        raise SystemExit("take returned other rows than fancy indexing")
    ways: dict[str, Callable[[], np.ndarray]] = {
        "ours: open + take": lambda: mmap_array.MemoryMappedArray(path, np.uint64, shape=shape).take(indices),
        "numpy.memmap: open + [idx]": lambda: np.memmap(path, np.uint64, mode="r", shape=shape)[indices],
        "in RAM: [idx]": lambda: in_ram[indices],
    }
    print(f"{args.rows:,} random 4 KiB rows of a {args.gib:g} GiB file, medians of {args.repeat}")
    for state, prepare in (("as written in 128 KiB pieces", lambda: None),
                           ("evicted and read back in 16 MiB reads", lambda: read_back(path))):
        prepare()
        medians = measure(ways, args.repeat)
        ours, reference = medians["ours: open + take"], medians["in RAM: [idx]"]
        print(f"\n{state}:")
        for name, seconds in medians.items():
            print(f"  {name:<28} {seconds * 1e3:8.1f} ms  {ours / seconds:6.2f}x")
        print(f"  ours / in RAM: {ours / reference:.2f}x")
    path.unlink()


if __name__ == "__main__":
    main()
