"""Each row of docs/migration.md: both calls run, and they give the same arrays."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

import mmap_array
from mmap_array._cli import main


def same(ours, theirs) -> bool:
    return ours.dtype == theirs.dtype and ours.shape == theirs.shape and np.array_equal(ours, theirs)


@pytest.fixture
def raw(tmp_path):
    path = tmp_path / "values.bin"
    np.arange(24, dtype=np.float64).tofile(path)
    return path


def test_memmap_read_only(raw):
    m = np.memmap(raw, dtype="float64", mode="r")
    mm = mmap_array.MemoryMappedArray(raw, dtype="float64", mode="r")
    assert same(mm.get_array(), np.asarray(m)) and same(np.asarray(mm), np.asarray(m))
    assert same(mm[2:5], m[2:5]) and (mm.filename, mm.offset, mm.mode) == (str(m.filename), m.offset, m.mode)


def test_memmap_layout_arguments(raw):
    m = np.memmap(raw, np.float64, mode="r+", shape=(2, 11), offset=16, order="F")
    mm = mmap_array.MemoryMappedArray(raw, np.float64, mode="r+", shape=(2, 11), offset=16, order="F")
    assert same(mm.get_array(), np.asarray(m))
    mm[1, 3] = -1.0
    mm.flush()
    m.flush()
    assert m[1, 3] == -1.0  # the same file, the same bytes
    assert (mm.filename, mm.offset, mm.mode) == (str(m.filename), m.offset, m.mode)
    mm.close()
    with mmap_array.MemoryMappedArray(raw, np.float64, mode="r+", shape=(2, 11), offset=16, order="F") as again:
        assert again[1, 3] == -1.0


def test_memmap_create_and_copy_on_write(tmp_path):
    m = np.memmap(tmp_path / "a.bin", np.int32, mode="w+", shape=(3, 4))
    mm = mmap_array.MemoryMappedArray(tmp_path / "b.bin", np.int32, mode="w+", shape=(3, 4))
    assert same(mm.get_array(), np.asarray(m))
    m[:] = 5
    m.flush()
    theirs = np.memmap(tmp_path / "a.bin", np.int32, mode="c")
    ours = mmap_array.MemoryMappedArray(tmp_path / "a.bin", np.int32, mode="c")
    theirs[0] = 9
    ours[0] = 9
    assert same(ours.get_array(), np.asarray(theirs)) and np.fromfile(tmp_path / "a.bin", np.int32)[0] == 5


def test_open_memmap_and_create(tmp_path):
    m = np.lib.format.open_memmap(tmp_path / "a.npy", mode="w+", dtype=np.float32, shape=(5, 2))
    mm = mmap_array.create(tmp_path / "b.npy", (5, 2), np.float32)
    assert same(mm.get_array(), np.asarray(m)) and mm.mode == "r+"
    assert same(np.load(tmp_path / "b.npy"), np.load(tmp_path / "a.npy"))


@pytest.mark.parametrize("mode", ["r", "r+", "c"])
def test_load_with_mmap_mode(tmp_path, mode):
    path = tmp_path / "x.npy"
    np.save(path, np.arange(12.0).reshape(3, 4))
    theirs = np.load(path, mmap_mode=mode)
    ours = mmap_array.open(path, mode).get_array()
    assert same(ours, np.asarray(theirs)) and ours.flags.writeable == theirs.flags.writeable


def test_npz(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, a=np.arange(5), b=np.eye(2))
    with np.load(path, mmap_mode="r") as theirs, mmap_array.open_npz(path) as ours:
        assert same(ours["a"], theirs["a"]) and sorted(ours.keys()) == sorted(theirs.files)
        assert isinstance(theirs["a"], np.ndarray) and not isinstance(theirs["a"], np.memmap)


def test_save_and_tofile(tmp_path):
    arr = np.arange(10, dtype=np.int16).reshape(2, 5)
    np.save(tmp_path / "np.npy", arr)
    mmap_array.save(tmp_path / "ours.npy", arr)
    assert (tmp_path / "np.npy").read_bytes() == (tmp_path / "ours.npy").read_bytes()
    arr.tofile(tmp_path / "np.bin")
    mmap_array.save(tmp_path / "ours.bin", arr, format="raw")
    assert (tmp_path / "np.bin").read_bytes() == (tmp_path / "ours.bin").read_bytes()


def test_safetensors(tmp_path):
    tensors = {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.ones(4, np.float16)}
    save_file(tensors, tmp_path / "theirs.safetensors", metadata={"k": "v"})
    mmap_array.save_safetensors(tmp_path / "ours.safetensors", tensors, metadata={"k": "v"})
    for path in (tmp_path / "theirs.safetensors", tmp_path / "ours.safetensors"):
        with safe_open(path, framework="np") as f, mmap_array.open_safetensors(path) as c:
            assert sorted(c.keys()) == sorted(f.keys()) and c.metadata == f.metadata()
            for name in f.keys():
                assert same(c[name], f.get_tensor(name))
                assert same(c[name][1:3], f.get_slice(name)[1:3])
        loaded = load_file(path)
        mapped = dict(mmap_array.open_safetensors(path).items())
        assert loaded.keys() == mapped.keys() and all(same(mapped[k], loaded[k]) for k in loaded)


def test_growing_and_cutting_an_npy_file(tmp_path):
    theirs, ours = tmp_path / "theirs.npy", tmp_path / "ours.npy"
    start, rows = np.arange(12.0).reshape(4, 3), np.ones((2, 3))
    np.save(theirs, start)
    np.save(ours, start)
    np.save(theirs, np.concatenate([np.load(theirs), rows]))
    mmap_array.open(ours, "r+").append(rows)
    assert np.array_equal(np.load(ours), np.load(theirs))
    np.save(theirs, np.load(theirs)[:5])
    mmap_array.open(ours, "r+").resize(5)
    assert np.array_equal(np.load(ours), np.load(theirs))


def test_convert_command(tmp_path):
    values = np.arange(12, dtype=np.float32).reshape(-1, 3)
    values.tofile(tmp_path / "data.bin")
    assert main(["convert", str(tmp_path / "data.bin"), str(tmp_path / "data.npy"), "--dtype", "float32",
                 "--shape", "-1,3", "--quiet"]) == 0
    assert np.array_equal(np.load(tmp_path / "data.npy"), values)
