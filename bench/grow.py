"""Growing files: MemoryMappedArray.append against NumPy's ways of doing the same.

    python bench/grow.py [--mb 80] [--repeat 5] [--appends 10000] [--dir /var/tmp]

Two measurements, each contestant interleaved with the others in every round:

* one large append: an .npy file of 1000 float64 rows of 1000 values gets ``--mb``
  MB more rows, by ``mm.append(rows)``; by ``np.concatenate`` of ``np.load`` and
  the rows, then ``np.save`` (what one does without memmaps); and by reopening
  with ``np.lib.format.open_memmap``-style ``numpy.memmap(mode="r+")`` with the
  larger shape (which grows the file silently), assigning the rows and rewriting
  the header by hand. Each starts from a fresh copy of the same file.
* many small appends: ``--appends`` batches of 1 to 4 rows of 4 float32 values,
  with ``mm.append``, against ``numpy.memmap`` reopened per batch.

Prints medians and the ratio ours / theirs (below 1 is faster).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time

import numpy as np

import mmap_array

BASE_ROWS = 1000
COLUMNS = 1000


def fresh(seed_path: str, path: str) -> None:
    shutil.copyfile(seed_path, path)
    os.sync()


def ours_append(path: str, rows: np.ndarray) -> None:
    mm = mmap_array.open(path, "r+")
    mm.append(rows)
    mm.close()


def concatenate_save(path: str, rows: np.ndarray) -> None:
    np.save(path, np.concatenate([np.load(path), rows]))


def memmap_reopen(path: str, rows: np.ndarray) -> None:
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        shape, fortran, dtype = read_header[version](f)
        offset = f.tell()
    new_shape = (shape[0] + len(rows),) + shape[1:]
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": fortran, "shape": new_shape}
    arr = np.memmap(path, dtype=dtype, mode="r+", offset=offset, shape=new_shape)
    arr[shape[0] :] = rows
    del arr  # unmapped without msync: no contestant syncs
    with open(path, "r+b") as f:  # in place: np.save leaves room for the digits
        write_header = {(1, 0): np.lib.format.write_array_header_1_0, (2, 0): np.lib.format.write_array_header_2_0}
        write_header[version](f, header)
        assert f.tell() == offset


def time_once(call, *args) -> float:
    start = time.perf_counter()
    call(*args)
    return time.perf_counter() - start


def large_append(directory: str, megabytes: int, repeat: int) -> None:
    seed = os.path.join(directory, "seed.npy")
    np.save(seed, np.random.default_rng(0).random((BASE_ROWS, COLUMNS)))
    rows = np.random.default_rng(1).random((megabytes * 1_000_000 // (8 * COLUMNS), COLUMNS))
    contestants = {
        "mm.append": ours_append,
        "np.concatenate + np.save": concatenate_save,
        "numpy.memmap r+ reopen + header": memmap_reopen,
    }
    times: dict[str, list[float]] = {name: [] for name in contestants}
    path = os.path.join(directory, "grow.npy")
    expected_shape = (BASE_ROWS + len(rows), COLUMNS)
    for _ in range(repeat):
        for name, call in contestants.items():
            fresh(seed, path)
            times[name].append(time_once(call, path, rows))
            loaded = np.load(path, mmap_mode="r")
            assert loaded.shape == expected_shape and loaded[-1, -1] == rows[-1, -1], name
    print(f"one append of {rows.nbytes / 1e6:.0f} MB to an 8 MB .npy file, median of {repeat}:")
    ours = statistics.median(times["mm.append"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:34s} {median * 1e3:9.1f} ms   ours / this {ours / median:6.3f}x")


def many_appends(directory: str, count: int, repeat: int) -> None:
    sizes = np.random.default_rng(2).integers(1, 5, size=count)
    batches = [np.full((k, 4), i, dtype=np.float32) for i, k in enumerate(sizes)]

    def ours(path: str) -> None:
        mm = mmap_array.create(path, (0, 4), "f4", format="raw")
        for batch in batches:
            mm.append(batch)

    def memmap(path: str) -> None:
        open(path, "wb").close()
        length = 0
        for batch in batches:
            arr = np.memmap(path, dtype=np.float32, mode="r+", shape=(length + len(batch), 4))
            arr[length:] = batch
            length += len(batch)
            del arr

    def tofile(path: str) -> None:
        with open(path, "wb") as f:
            for batch in batches:
                batch.tofile(f)

    contestants = {"mm.append": ours, "numpy.memmap reopened per batch": memmap, "file.write (no mapping)": tofile}
    times: dict[str, list[float]] = {name: [] for name in contestants}
    path = os.path.join(directory, "many.bin")
    for _ in range(repeat):
        for name, call in contestants.items():
            times[name].append(time_once(call, path))
            assert os.path.getsize(path) == sizes.sum() * 16, name
    print(f"{count} appends of 1-4 rows of 4 float32 (raw file), median of {repeat}:")
    ours_time = statistics.median(times["mm.append"])
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"  {name:34s} {median * 1e3:9.1f} ms ({median / count * 1e6:5.1f} us each)"
            f"   ours / this {ours_time / median:6.3f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=80)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--appends", type=int, default=10_000)
    parser.add_argument("--dir", default="/var/tmp")
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="mmap_array-grow-", dir=args.dir)
    try:
        large_append(directory, args.mb, args.repeat)
        many_appends(directory, args.appends, args.repeat)
    finally:
        shutil.rmtree(directory)


if __name__ == "__main__":
    main()
