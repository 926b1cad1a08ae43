"""Helpers shared by the metric families: the stdlib anchor, result checks, labels."""

from __future__ import annotations

import math
import mmap
from collections.abc import Callable
from typing import Any

import numpy as np


def stdlib_map(path: str) -> np.ndarray:
    """The standard library's zero-copy way: ``mmap.mmap`` of the file, viewed by ``np.frombuffer``."""
    with open(path, "rb") as file:
        mapping = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    return np.frombuffer(mapping, np.float64)


def vector_check(values: np.ndarray) -> Callable[[Any], None]:
    """A check that a result is ``values``' shape and dtype and ends with its last element."""
    last = values[-1]

    def check(array: np.ndarray) -> None:
        if array.shape != values.shape or array.dtype != values.dtype or array[-1] != last:
            raise AssertionError(f"read {array.dtype} {array.shape}, expected {values.dtype} {values.shape}")

    return check


def sum_check(total: float) -> Callable[[Any], None]:
    """A check that a pass summed to ``total`` (summation order may differ in the last bits)."""

    def check(value: Any) -> None:
        if not math.isclose(float(value), total, rel_tol=1e-9):
            raise AssertionError(f"the pass summed to {float(value)!r}, expected {total!r}")

    return check


def checksum_of(array: np.ndarray) -> int:
    """What the C++ floor's checksum of ``array``'s bytes must be: 64-bit words summed mod 2**64."""
    return int(np.ascontiguousarray(array).view(np.uint64).sum(dtype=np.uint64))


def megabytes(nbytes: int) -> str:
    """``80000000`` -> ``"80 MB"``."""
    return f"{nbytes / 1e6:g} MB"
