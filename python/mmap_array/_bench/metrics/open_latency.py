"""Open to array: from a path to NumPy arrays ready to index, with a warm page cache.

Zero-copy contestants read no data, so each repetition is mostly system calls
and object construction; ``np.fromfile``, ``np.load`` without ``mmap_mode`` and
safetensors' ``get_tensor`` copy the data and are shown for scale. Every
result is checked outside the clock (shape, and the last element, which a
lazily wrong mapping would not hold).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ... import MemoryMappedArray, open_safetensors
from ... import open as open_array
from ..._core import _floor_open_map
from ..context import Context
from ..harness import ANCHOR, FLOOR, OURS, Contestant, self_timed, timed
from ..metric import MetricResult, optional_contestant, run_metric
from ..stats import Target
from .common import megabytes, stdlib_map, vector_check

# Shown for scale; a full copy sweeps the CPU caches, and the next open's system calls
# took up to 15 times longer.
APART_NOTE = "runs in rounds of its own, after the others: it slows whatever runs next"


def open_raw(ctx: Context) -> MetricResult:
    """Open a raw float64 file to an array: ours against every zero-copy way and the syscall floor."""
    data = ctx.raw()
    path, n = data.path, data.values.size
    check = vector_check(data.values)
    contestants = [
        Contestant("ours", "mmap_array.MemoryMappedArray(path).get_array()", OURS,
                   timed(lambda: MemoryMappedArray(path).get_array(), check)),
        Contestant("numpy.memmap", "np.memmap(path, np.float64, mode='r')", ANCHOR,
                   timed(lambda: np.memmap(path, np.float64, mode="r"), check)),
        Contestant("mmap + frombuffer", "mmap.mmap(fd, 0, access=ACCESS_READ) + np.frombuffer", ANCHOR,
                   timed(lambda: stdlib_map(path), check)),
        optional_contestant(
            "pyarrow.memory_map", "np.frombuffer(pyarrow.memory_map(path).read_buffer(), np.float64)", ANCHOR,
            "pyarrow", lambda pa: timed(lambda: np.frombuffer(pa.memory_map(path, "r").read_buffer(), np.float64), check),
            note="read_buffer() also calls madvise(MADV_WILLNEED) on the range",
        ),
        optional_contestant(
            "torch.from_file", "torch.from_file(path, shared=False, size=n, dtype=torch.float64).numpy()", ANCHOR,
            "torch", lambda torch: timed(
                lambda: torch.from_file(path, shared=False, size=n, dtype=torch.float64).numpy(), check),
            note="a private (copy-on-write) mapping",
        ),
        Contestant("np.fromfile", "np.fromfile(path, np.float64) (reads every byte)", ANCHOR,
                   timed(lambda: np.fromfile(path, np.float64), check), apart=True,
                   note=APART_NOTE),
        Contestant("syscall floor", "open + fstat + mmap + close (C++, timed inside)", FLOOR,
                   self_timed(lambda: _floor_open_map(path) / 1e9),
                   note="no Python call, no argument checks, no array object: the kernel's share alone"),
    ]
    targets = [
        Target("ours", 0.5, "numpy.memmap", "at most 0.5x numpy.memmap"),
        Target("ours", 1.5, "syscall floor", "at most 1.5x the syscall floor"),
    ]
    return run_metric(
        "open_raw", f"open to array, {megabytes(data.values.nbytes)} raw float64",
        "From a path to a float64 ndarray over the whole file; the page cache is warm.",
        contestants, targets, ctx.scale.fast_reps, warmup=3,
    )


def open_npy(ctx: Context) -> MetricResult:
    """Open an .npy file to an array: ours against np.load(mmap_mode="r")."""
    data = ctx.npy()
    path = data.path
    check = vector_check(data.values)
    contestants = [
        Contestant("ours", "mmap_array.open(path).get_array()", OURS,
                   timed(lambda: open_array(path).get_array(), check)),
        Contestant("np.load(mmap_mode='r')", "np.load(path, mmap_mode='r')", ANCHOR,
                   timed(lambda: np.load(path, mmap_mode="r"), check)),
        Contestant("np.load", "np.load(path) (reads every byte)", ANCHOR, timed(lambda: np.load(path), check),
                   apart=True, note=APART_NOTE),
    ]
    targets = [Target("ours", 0.1, "np.load(mmap_mode='r')", "at most 0.1x np.load(mmap_mode=\"r\")")]
    return run_metric(
        "open_npy", f"open to array, {megabytes(data.values.nbytes)} .npy",
        "From a path to the .npy file's array (header parsed and validated); the page cache is warm.",
        contestants, targets, ctx.scale.fast_reps, warmup=3,
    )


def open_safetensors_arrays(ctx: Context) -> MetricResult:
    """Open a safetensors file to one array per tensor: ours against the safetensors package."""
    data = ctx.tensors()
    path, names = data.path, data.names

    def check(arrays: Any) -> None:
        tensors = list(arrays.values()) if isinstance(arrays, dict) else list(arrays)
        if len(tensors) != len(names) or sum(t.nbytes for t in tensors) != data.nbytes:
            raise AssertionError(f"got {len(tensors)} tensors, expected {len(names)}")

    def ours() -> list[np.ndarray]:
        container = open_safetensors(path)
        return [container[name] for name in container]

    def safe_open_all(safetensors: Any) -> Callable[[], list[np.ndarray]]:
        def run() -> list[np.ndarray]:
            with safetensors.safe_open(path, framework="np") as file:
                return [file.get_tensor(name) for name in file.keys()]  # noqa: SIM118 (safe_open has no __iter__)

        return run

    contestants = [
        Contestant("ours", "open_safetensors(path), then c[name] for every tensor", OURS, timed(ours, check)),
        optional_contestant(
            "safe_open + get_tensor", "safetensors.safe_open(path, framework='np') + get_tensor of every tensor",
            ANCHOR, "safetensors", lambda st: timed(safe_open_all(st), check),
            note="copies every tensor",
        ),
        optional_contestant(
            "safetensors.numpy.load_file", "safetensors.numpy.load_file(path)", ANCHOR, "safetensors.numpy",
            lambda stn: timed(lambda: stn.load_file(path), check), note="reads the file and copies every tensor",
        ),
        optional_contestant(
            "safetensors.torch.load_file", "safetensors.torch.load_file(path) (torch tensors)", ANCHOR,
            "safetensors.torch", lambda stt: timed(lambda: stt.load_file(path), check),
        ),
    ]
    targets = [Target("ours", 0.2, "safe_open + get_tensor", "at most 0.2x safe_open + get_tensor of every tensor")]
    return run_metric(
        "open_safetensors", f"open to arrays, {len(names)}-tensor safetensors",
        f"From a path to one array per tensor ({len(names)} tensors, {data.nbytes / 1e6:.1f} MB); "
        "the page cache is warm.",
        contestants, targets, ctx.scale.fast_reps, warmup=3,
    )
