"""Functions run in worker processes by the sharing tests.

They live in a module of their own, not in a test module, so that spawned
workers can import them by name without importing pytest or the tests.
"""

from __future__ import annotations

import os
import sys

import numpy as np


def file_mappings(path: str) -> list[tuple[int, int, str]]:
    """(start, end, permissions) of this process's mappings of the file at ``path``."""
    target = os.path.realpath(path)
    found = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.rstrip("\n").split(maxsplit=5)
            if len(fields) == 6 and fields[5] == target:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                found.append((start, end, fields[1]))
    return found


def mapped_ranges(path: str) -> list[tuple[int, int]]:
    """Address ranges of this process's mappings of the file at ``path``."""
    return [(start, end) for start, end, _ in file_mappings(path)]


def permissions_at(path: str, address: int) -> str | None:
    """The permissions ("r--s", "rw-p"...) of the mapping of ``path`` holding ``address``."""
    return next((perms for start, end, perms in file_mappings(path) if start <= address < end), None)


def backed_by_file(array: np.ndarray, path: str) -> bool:
    """True if ``array``'s memory lies inside a mapping of ``path`` in this process."""
    first = array.__array_interface__["data"][0]
    return any(start <= first and first + array.nbytes <= end for start, end in mapped_ranges(path))


# The name of a mark the parent sets on the sys module before it starts workers: a forked
# worker inherits it, a spawned one starts without. (Not a global of this module: joblib may
# pickle functions by value, with the globals they read.)
PARENT_MARK = "mmap_array_test_parent"


def describe(handle) -> dict:
    """What a worker received: its process, whether the data is the mapped file, a checksum."""
    array = handle.get_array()
    return {
        "pid": os.getpid(),
        "inherited": getattr(sys, PARENT_MARK, None),
        "type": type(handle).__name__,
        "mode": handle.mode,
        "backed_by_file": backed_by_file(array, handle.filename),
        "sum": float(array.sum()),
        "first_row": array[0].copy(),
    }


def write_rows(handle, start: int, stop: int) -> int:
    """Write each row's own index into rows [start, stop) of ``handle`` and flush."""
    handle[start:stop] = np.arange(start, stop, dtype=handle.dtype)[:, None]
    handle.flush()
    return os.getpid()


def describe_container(container) -> dict:
    """What a worker received in a MappedArrays: names, and whether each array is mapped."""
    return {
        "pid": os.getpid(),
        "keys": container.keys(),
        "backed_by_file": all(backed_by_file(container[name], container.filename) for name in container.keys()),
        "sums": {name: float(container[name].sum()) for name in container.keys()},
    }
