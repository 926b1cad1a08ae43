"""Sharing a mapping with worker processes: the handle travels as a reference.

A pickled ``MemoryMappedArray`` holds the path, layout, mode and the file's
identity, never the data, so each worker maps the file itself. Writes big.npy
in the current directory.
"""

import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import mmap_array


def column_sum(handle: mmap_array.MemoryMappedArray, j: int) -> float:
    """Runs in a worker process, which maps the file itself."""
    return float(handle[:, j].sum())


def main() -> None:
    mmap_array.save("big.npy", np.arange(80_000, dtype=np.float64).reshape(10_000, 8))
    mm = mmap_array.open("big.npy")
    print("pickled handle:", len(pickle.dumps(mm)), "bytes for", mm.nbytes, "bytes of data")

    with ProcessPoolExecutor(max_workers=2) as pool:  # fork or spawn, Pool, joblib alike
        sums = list(pool.map(column_sum, [mm] * 8, range(8)))
    np.testing.assert_allclose(sums, mm.get_array().sum(axis=0))
    print("column sums:", sums)


if __name__ == "__main__":  # worker processes started by spawn import this module
    main()
