"""Every public name of mmap_array, used as a user would and checked by mypy --strict.

test_typing.py runs mypy --strict over this file: each ``assert_type`` states what the
generated stub (_core.pyi) and the package's annotations promise, and pytest runs the
same lines, so a promise the code does not keep fails here too. The rest of the suite
is checked by mypy in default mode only; see test_typing.py for why.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from typing_extensions import assert_type

import mmap_array
from mmap_array import FileIdentity, MappedArrays, MemoryMappedArray


def test_memory_mapped_array(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    mmap_array.write_binary(path, np.arange(12.0))
    mmap_array.write_binary(str(path), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0])
    mm = MemoryMappedArray(os.fsencode(path), "float64", "r", (3, 4), 0, "C")
    assert_type(mm.get_array(), npt.NDArray[Any])
    assert_type(mm.size(), int)
    assert_type(mm.shape, tuple[int, ...])
    assert_type(mm.dtype, np.dtype[Any])
    assert_type(mm.filename, str)
    assert_type(mm.mode, str)
    assert_type(mm.format, str)
    assert_type(mm.order, str)
    assert_type(mm.offset, int)
    assert_type(mm.nbytes, int)
    assert_type(mm.ndim, int)
    assert_type(mm.closed, bool)
    assert_type(mm.identity, FileIdentity)
    assert_type(mm.identity.size, int)
    assert mm.shape == (3, 4) and mm.size() == 12 and mm.identity.size == 96

    assert_type(len(mm), int)
    rows: list[Any] = list(mm)
    assert len(rows) == 3
    assert float(mm[1, 2]) == 6.0
    assert_type(np.asarray(mm), npt.NDArray[Any])
    assert memoryview(mm).nbytes == 96
    assert_type(mm.__array_interface__, dict[str, Any])
    assert np.from_dlpack(mm).shape == (3, 4)  # the stub's __dlpack__ satisfies NumPy's protocol

    mm.advise("sequential", 0, 2)
    mm.prefetch()
    mm.populate(threads=1)
    assert_type(mm.residency(np.int64(0), 3), float)
    assert_type(mm.residency_map(4), npt.NDArray[np.float64])
    assert_type(mm.take([0, 2], axis=1), npt.NDArray[Any])
    assert_type(mm.page_info(), dict[str, Any])
    assert_type(pickle.loads(pickle.dumps(mm)), Any)

    with MemoryMappedArray(path, mode="r+", shape=12) as writable:
        assert_type(writable, MemoryMappedArray)
        writable[0] = 42.0
        writable.flush()
    mm.close()
    assert mm.closed


def test_npy_functions(tmp_path: Path) -> None:
    path = tmp_path / "grid.npy"
    grid = mmap_array.create(path, (4, 3), np.float32, fill=1.5)
    assert_type(grid, MemoryMappedArray)
    mmap_array.save(tmp_path / "eye.npy", np.eye(3), fsync=True)
    eye = mmap_array.open(tmp_path / "eye.npy")
    assert_type(eye, MemoryMappedArray)
    raw = mmap_array.open(path, "c", dtype="u1", format="raw")
    assert raw.format == "raw" and eye.format == "npy" and grid.get_array().sum() == 18.0
    assert_type(grid.append(np.zeros((2, 3), np.float32)), None)
    assert_type(grid.resize(5), None)
    assert grid.shape == (5, 3) and np.load(path).shape == (5, 3)


def test_containers(tmp_path: Path) -> None:
    tensors = {"w": np.ones((2, 2), np.float32), "b": np.zeros(2, np.float32)}
    mmap_array.save_safetensors(tmp_path / "m.safetensors", tensors, metadata={"step": "1"})
    np.savez(tmp_path / "m.npz", w=tensors["w"])
    with mmap_array.open_safetensors(tmp_path / "m.safetensors") as weights:
        assert_type(weights, MappedArrays)
        assert_type(weights["w"], npt.NDArray[Any])
        assert_type(weights.keys(), list[str])
        assert_type(weights.values(), list[npt.NDArray[Any]])
        assert_type(weights.items(), list[tuple[str, npt.NDArray[Any]]])
        assert_type(weights.info(), list[dict[str, Any]])
        assert_type(weights.metadata, dict[str, str])
        assert_type(weights.filename, str)
        assert_type(weights.identity, FileIdentity)
        names: list[str] = list(weights)
        assert "w" in weights and len(weights) == 2 and sorted(names) == ["b", "w"]
        assert weights.get("missing") is None
        weights.advise("willneed", name="w")
        weights.prefetch()
        weights.populate("b", threads=1)
        assert_type(weights.residency(), float)
        assert_type(weights.residency_map(2, "w"), npt.NDArray[np.float64])
        assert_type(weights.page_info(), dict[str, Any])
    bundle = mmap_array.open_npz(tmp_path / "m.npz", "r+")
    assert_type(bundle, MappedArrays)
    bundle["w"][0, 0] = 7.0
    bundle.flush()
    bundle.close()


def test_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.npy").write_bytes(b"not an .npy file")
    with pytest.raises(mmap_array.FormatError) as caught:
        mmap_array.open(tmp_path / "bad.npy", format="npy")
    assert_type(caught.value.reason, str)
    assert isinstance(caught.value, ValueError) and caught.value.reason == "bad_magic"
    assert issubclass(mmap_array.FileTruncatedError, OSError)
    assert issubclass(mmap_array.FileChangedError, OSError)
    assert_type(mmap_array.__version__, str)
