"""The files the benchmark reads, written by the reference implementations.

Each file is written once per run, by the tool its format comes from
(``ndarray.tofile``, ``np.save``, ``safetensors.numpy.save_file``), so that
no contestant reads a file shaped to suit it. Each dataset also carries what a
correct read must find, so that every timed repetition can be checked.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import numpy as np

from .scale import Scale

# Columns of the gather file: one float64 row fills one 4 KiB page.
_ROW_DTYPE = np.dtype(np.float64)


@dataclass(frozen=True)
class ArrayFile:
    """A file holding ``values`` (raw or .npy), and their float64 sum."""

    path: str
    values: np.ndarray
    total: float


@dataclass(frozen=True)
class TensorFile:
    """A safetensors file: its tensor names and total data bytes."""

    path: str
    names: tuple[str, ...]
    nbytes: int


@dataclass(frozen=True)
class RowFile:
    """A raw float64 file of ``rows`` rows of ``columns``; row r holds r * columns + (0..columns-1)."""

    path: str
    rows: int
    columns: int

    def expected(self, indices: np.ndarray) -> np.ndarray:
        """The rows a correct gather of ``indices`` returns."""
        return (indices.astype(np.float64)[:, None] * self.columns) + np.arange(self.columns, dtype=np.float64)


def _sync(path: str) -> None:
    """Write the file back now: its writeback must not run during the measurements."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_space(directory: str, needed: int) -> None:
    free = shutil.disk_usage(directory).free
    # Headroom: the write benchmarks keep a few more files of array size alive at once.
    if free < needed * 1.25:
        raise OSError(
            28, f"the benchmark needs about {needed * 1.25 / 2**30:.1f} GiB free in {directory}, "
            f"which has {free / 2**30:.1f} GiB (use --dir elsewhere, or --quick)"
        )


def raw_array(directory: str, scale: Scale) -> ArrayFile:
    """Write ``scale.array_bytes`` of random float64 values with ``ndarray.tofile``."""
    values = np.random.default_rng(20240501).random(scale.array_bytes // 8)
    path = os.path.join(directory, "array.f64")
    _check_space(directory, values.nbytes)
    values.tofile(path)
    _sync(path)
    return ArrayFile(path, values, float(values.sum()))


def npy_array(directory: str, source: ArrayFile) -> ArrayFile:
    """Write the same values as .npy with ``np.save``."""
    path = os.path.join(directory, "array.npy")
    _check_space(directory, source.values.nbytes)
    np.save(path, source.values)
    _sync(path)
    return ArrayFile(path, source.values, source.total)


def tensor_file(directory: str, scale: Scale) -> TensorFile:
    """Write the safetensors file: weights and biases, alternating, like a small model's layers.

    Written by ``safetensors.numpy.save_file`` when the package is installed;
    otherwise by mmap_array's own writer (and then only mmap_array can be
    measured on it anyway).
    """
    rng = np.random.default_rng(7)
    side = scale.tensor_side
    tensors = {}
    for i in range(scale.tensors):
        layer, kind = divmod(i, 2)
        shape = (side, side) if kind == 0 else (side,)
        tensors[f"layers.{layer}.{'weight' if kind == 0 else 'bias'}"] = rng.random(shape, dtype=np.float32)
    path = os.path.join(directory, "model.safetensors")
    try:
        from safetensors.numpy import save_file
    except ImportError:
        from .. import save_safetensors

        save_safetensors(path, tensors)
    else:
        save_file(tensors, path)
    _sync(path)
    return TensorFile(path, tuple(tensors), sum(t.nbytes for t in tensors.values()))


def row_file(directory: str, scale: Scale) -> RowFile:
    """Write the gather file in chunks (it may be larger than memory is comfortable with)."""
    columns = scale.row_bytes // _ROW_DTYPE.itemsize
    rows = scale.gather_file_rows
    path = os.path.join(directory, "rows.f64")
    _check_space(directory, rows * scale.row_bytes)
    chunk_rows = max(1, (64 << 20) // scale.row_bytes)
    with open(path, "wb") as file:
        for start in range(0, rows, chunk_rows):
            stop = min(rows, start + chunk_rows)
            block = np.arange(start * columns, stop * columns, dtype=np.float64)
            file.write(block.data.cast("B"))
    _sync(path)
    return RowFile(path, rows, columns)
