"""Writing: a whole array to a new file, and creating a mapped file, filling it and flushing.

Every contestant writes its own file, removed (untimed) before each
repetition, so that no contestant pays for truncating another's pages or for
writing back an earlier repetition's dirty pages. Each file is checked
afterwards (its size, and its last value read back with ``pread``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ... import create, save, write_binary
from ..context import Context
from ..harness import ANCHOR, OURS, Contestant, timed
from ..metric import MetricResult, run_metric
from ..stats import Target
from .common import megabytes


def _remove(path: str) -> Callable[[], None]:
    def before() -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    return before


def _file_check(path: str, values: np.ndarray) -> Callable[[Any], None]:
    """The file ends with ``values``' last 8 bytes and its data is ``values.nbytes`` long."""
    tail = values[-1:].tobytes()

    def check(_: Any) -> None:
        size = os.path.getsize(path)
        if size < values.nbytes:
            raise AssertionError(f"{path} has {size} bytes, fewer than the {values.nbytes} written")
        fd = os.open(path, os.O_RDONLY)
        try:
            if os.pread(fd, len(tail), size - len(tail)) != tail:
                raise AssertionError(f"{path} does not end with the array's last value")
        finally:
            os.close(fd)

    return check


def _contestant(key: str, label: str, role: str, path: str, values: np.ndarray, run: Callable[[], Any],
                note: str = "") -> Contestant:
    return Contestant(key, label, role, timed(run, _file_check(path, values), before=_remove(path)), note=note)


def write_save(ctx: Context) -> MetricResult:
    """write_binary and save of an in-memory array, against ndarray.tofile."""
    values = ctx.raw().values
    p = {k: ctx.path(f"write-{k}") for k in ("ours", "save", "tofile", "npsave", "stdlib")}
    p["save"] += ".npy"
    p["npsave"] += ".npy"

    def stdlib_write() -> None:
        with open(p["stdlib"], "wb") as file:
            file.write(values.data)

    contestants = [
        _contestant("ours", "mmap_array.write_binary(path, values)", OURS, p["ours"], values,
                    lambda: write_binary(p["ours"], values), note="temporary file + rename: atomic"),
        _contestant("ours save", "mmap_array.save(path, values) (.npy)", OURS, p["save"], values,
                    lambda: save(p["save"], values), note="temporary file + rename: atomic"),
        _contestant("ndarray.tofile", "values.tofile(path)", ANCHOR, p["tofile"], values,
                    lambda: values.tofile(p["tofile"]), note="in place: not atomic"),
        _contestant("np.save", "np.save(path, values)", ANCHOR, p["npsave"], values,
                    lambda: np.save(p["npsave"], values), note="in place: not atomic"),
        _contestant("open().write", "open(path, 'wb').write(values.data)", ANCHOR, p["stdlib"], values,
                    stdlib_write, note="in place: not atomic"),
    ]
    targets = [
        Target("ours", 1.0, "ndarray.tofile", "write_binary at most 1.0x ndarray.tofile"),
        Target("ours save", 1.0, "ndarray.tofile", "save at most 1.0x ndarray.tofile"),
    ]
    return run_metric(
        "write_save", f"write_binary / save of {megabytes(values.nbytes)}",
        "Write an in-memory float64 array to a new file (into the page cache; none of them syncs).",
        contestants, targets, ctx.scale.pass_reps, warmup=1,
    )


def create_fill_flush(ctx: Context) -> MetricResult:
    """Create a mapped file, copy an array into it and flush, against numpy.memmap(mode="w+")."""
    values = ctx.raw().values
    n = values.size
    p = {k: ctx.path(f"create-{k}") for k in ("ours", "ours npy", "memmap", "open_memmap")}
    p["ours npy"] += ".npy"
    p["open_memmap"] += ".npy"

    def ours(path: str, format: str) -> Callable[[], None]:
        def run() -> None:
            mm = create(path, (n,), "float64", format=format)
            mm.get_array()[...] = values
            mm.flush()
            mm.close()

        return run

    def memmap() -> None:
        mapped = np.memmap(p["memmap"], np.float64, mode="w+", shape=(n,))
        mapped[...] = values
        mapped.flush()
        del mapped

    def open_memmap() -> None:
        mapped = np.lib.format.open_memmap(p["open_memmap"], mode="w+", dtype=np.float64, shape=(n,))
        mapped[...] = values
        mapped.flush()
        del mapped

    contestants = [
        _contestant("ours", "mmap_array.create(path, (n,), format='raw'), fill, flush(), close()", OURS,
                    p["ours"], values, ours(p["ours"], "raw"),
                    note="preallocated; pages written behind the fill; flush() is msync + fsync"),
        _contestant("ours npy", "mmap_array.create(path, (n,)) (.npy), fill, flush(), close()", OURS,
                    p["ours npy"], values, ours(p["ours npy"], "npy"), note="preallocated; pages written behind the fill; flush() is msync + fsync"),
        _contestant("numpy.memmap(w+)", "np.memmap(path, np.float64, 'w+', shape=(n,)), fill, flush()", ANCHOR,
                    p["memmap"], values, memmap, note="sparse file; flush() is msync"),
        _contestant("open_memmap(w+)", "np.lib.format.open_memmap(path, 'w+', ...), fill, flush()", ANCHOR,
                    p["open_memmap"], values, open_memmap, note="sparse file; flush() is msync"),
    ]
    targets = [Target("ours", 0.6, "numpy.memmap(w+)", "at most 0.6x the numpy.memmap(mode=\"w+\") path")]
    return run_metric(
        "create_fill_flush", f"create {megabytes(values.nbytes)}, fill, flush",
        "Create a new file of the array's size, map it, copy the array into it and flush it to the disk.",
        contestants, targets, ctx.scale.pass_reps, warmup=1,
    )
