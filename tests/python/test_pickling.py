"""Pickling by reference: the path, layout, mode and file identity, never the data.

Unpickling maps the same file again, and refuses one that was replaced,
resized or (read-only pickles) modified since it was mapped.
"""

from __future__ import annotations

import copy
import errno
import os
import pickle

import numpy as np
import pytest

import mmap_array
from conftest import mappings_of, write_bytes


@pytest.fixture
def raw(tmp_path):
    data = np.arange(1000, dtype=np.float64)
    return write_bytes(tmp_path / "data.bin", data), data


def roundtrip(obj):
    return pickle.loads(pickle.dumps(obj))


def same_layout(a, b):
    return (a.filename, a.format, a.dtype, a.shape, a.offset, a.order, a.nbytes) == (
        b.filename, b.format, b.dtype, b.shape, b.offset, b.order, b.nbytes
    )


def bump_mtime(path, seconds: int = 5) -> None:
    """Move the modification time on explicitly: file systems stamp it coarsely."""
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 1_000_000_000))


# --- what comes back -------------------------------------------------------------------


def test_a_raw_handle_comes_back_mapping_the_same_file(raw):
    path, data = raw
    mm = mmap_array.MemoryMappedArray(path, offset=80, shape=(330, 3), order="F")
    clone = roundtrip(mm)
    assert clone is not mm and same_layout(clone, mm) and clone.mode == "r"
    assert np.array_equal(clone.get_array(), mm.get_array())
    assert np.array_equal(clone.get_array(), data[10:].reshape((330, 3), order="F"))
    assert not np.shares_memory(clone.get_array(), mm.get_array())  # its own mapping
    assert mappings_of(path) == 2
    assert clone.identity == mm.identity


@pytest.mark.parametrize("order", ["C", "F"])
def test_subarray_dtypes_keep_their_item_layout(tmp_path, order):
    values = np.arange(24, dtype="<i4")
    path = write_bytes(tmp_path / "items.bin", values)
    mm = mmap_array.MemoryMappedArray(path, dtype=("<i4", (3,)), shape=(4, 2), order=order)
    clone = roundtrip(mm)
    assert clone.shape == (4, 2, 3) and clone.order == order
    assert np.array_equal(clone.get_array(), mm.get_array())
    assert clone.get_array().strides == mm.get_array().strides


def test_npy_handles_come_back_with_their_header_layout(tmp_path):
    path = tmp_path / "m.npy"
    np.save(path, np.asfortranarray(np.arange(12.0).reshape(3, 4)))
    mm = mmap_array.open(path)
    clone = roundtrip(mm)
    assert same_layout(clone, mm) and clone.format == "npy" and clone.order == "F"
    assert np.array_equal(clone.get_array(), np.load(path))


def test_a_large_header_npy_reopens_without_a_larger_cap(tmp_path):
    # Opened with max_header_size raised; the pickle does not need to remember it, since
    # the header always fits in the data offset.
    path = tmp_path / "wide.npy"
    fields = [(f"field_{i:04d}", "<f8") for i in range(600)]
    np.save(path, np.zeros(2, dtype=fields))
    mm = mmap_array.open(path, max_header_size=100_000)
    assert mm.offset > 10_000
    assert roundtrip(mm).dtype == mm.dtype


@pytest.mark.parametrize("mode", ["r", "r+"])
def test_the_mode_is_kept(raw, mode):
    clone = roundtrip(mmap_array.MemoryMappedArray(raw[0], mode=mode))
    assert clone.mode == mode
    assert clone.get_array().flags.writeable == (mode == "r+")


def test_a_w_plus_handle_comes_back_as_r_plus_without_wiping_the_file(tmp_path):
    path = tmp_path / "new.bin"
    mm = mmap_array.MemoryMappedArray(path, mode="w+", shape=(4,))
    mm.get_array()[:] = [1, 2, 3, 4]
    clone = roundtrip(mm)
    assert clone.mode == "r+"
    assert list(clone.get_array()) == [1, 2, 3, 4]
    clone.get_array()[0] = 9  # shared: the first handle sees it
    assert mm.get_array()[0] == 9


def test_created_handles_pickle(tmp_path):
    mm = mmap_array.create(tmp_path / "c.npy", (5, 2), "int16", fill=3)
    clone = roundtrip(mm)
    assert clone.mode == "r+" and clone.format == "npy"
    assert np.array_equal(clone.get_array(), np.full((5, 2), 3, np.int16))


def test_writes_through_an_unpickled_r_plus_handle_reach_the_file(raw):
    path, data = raw
    mm = mmap_array.MemoryMappedArray(path, mode="r+")
    clone = roundtrip(mm)
    clone.get_array()[5] = -1.0
    clone.flush()
    assert np.fromfile(path)[5] == -1.0
    assert mm.get_array()[5] == -1.0


def test_copy_and_deepcopy_map_the_file_again(raw):
    mm = mmap_array.MemoryMappedArray(raw[0])
    for clone in (copy.copy(mm), copy.deepcopy(mm)):
        assert clone is not mm and same_layout(clone, mm)


# --- size ------------------------------------------------------------------------------


def test_the_pickle_of_a_16_gib_sparse_file_is_under_1_kib(tmp_path):
    path = tmp_path / "sparse.bin"
    with open(path, "wb") as f:
        f.truncate(16 << 30)  # no blocks allocated: nothing is written or read
    mm = mmap_array.MemoryMappedArray(path, dtype="uint8", shape=(1 << 20, 1 << 14))
    blob = pickle.dumps(mm, protocol=pickle.HIGHEST_PROTOCOL)
    assert len(blob) < 1024, len(blob)
    assert len(pickle.dumps(mm, protocol=2)) < 1024
    clone = pickle.loads(blob)
    assert clone.nbytes == 16 << 30 and clone.shape == (1 << 20, 1 << 14)


def test_container_pickles_are_small_too(tmp_path):
    path = tmp_path / "t.safetensors"
    mmap_array.save_safetensors(path, {"w": np.zeros((512, 512), np.float32)})
    weights = mmap_array.open_safetensors(path)
    assert os.path.getsize(path) > 1 << 20
    assert len(pickle.dumps(weights)) < 1024


# --- containers ------------------------------------------------------------------------


def test_safetensors_containers_come_back(tmp_path):
    path = tmp_path / "m.safetensors"
    tensors = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(4, np.int64)}
    mmap_array.save_safetensors(path, tensors, {"format": "np"})
    weights = mmap_array.open_safetensors(path)
    clone = roundtrip(weights)
    assert (clone.format, clone.mode, clone.filename) == ("safetensors", "r", weights.filename)
    assert clone.keys() == weights.keys() and clone.metadata == {"format": "np"}
    for name, value in tensors.items():
        assert np.array_equal(clone[name], value)
    assert clone.identity == weights.identity


def test_npz_containers_come_back_with_their_header_cap(tmp_path):
    path = tmp_path / "b.npz"
    wide = np.zeros(1, dtype=[(f"f{i:04d}", "<i2") for i in range(800)])
    np.savez(path, x=np.arange(3), wide=wide)
    with pytest.raises(mmap_array.FormatError):
        mmap_array.open_npz(path)  # the wide member's header is over the default cap
    bundle = mmap_array.open_npz(path, max_header_size=100_000)
    clone = roundtrip(bundle)
    assert clone.format == "npz" and sorted(clone.keys()) == ["wide", "x"]
    assert np.array_equal(clone["x"], [0, 1, 2]) and clone["wide"].dtype == wide.dtype


def test_an_r_plus_container_shares_writes(tmp_path):
    path = tmp_path / "w.safetensors"
    mmap_array.save_safetensors(path, {"w": np.zeros(4, np.float32)})
    weights = mmap_array.open_safetensors(path, mode="r+")
    clone = roundtrip(weights)
    assert clone.mode == "r+"
    clone["w"][1] = 5
    assert weights["w"][1] == 5


# --- refusals --------------------------------------------------------------------------


def test_copy_on_write_handles_refuse_to_pickle_and_say_why(raw):
    mm = mmap_array.MemoryMappedArray(raw[0], mode="c")
    mm.get_array()[0] = 42.0
    with pytest.raises(TypeError, match="copy-on-write") as info:
        pickle.dumps(mm)
    assert repr(str(raw[0])) in str(info.value) and "this process" in str(info.value)
    assert not mm.closed and mm.get_array()[0] == 42.0  # untouched


def test_copy_on_write_containers_refuse_too(tmp_path):
    path = tmp_path / "c.npz"
    np.savez(path, x=np.arange(3))
    with pytest.raises(TypeError, match="copy-on-write"):
        pickle.dumps(mmap_array.open_npz(path, mode="c"))


def test_closed_handles_and_containers_refuse(raw, tmp_path):
    mm = mmap_array.MemoryMappedArray(raw[0])
    mm.close()
    with pytest.raises(ValueError, match="cannot pickle .*data.bin.*closed"):
        pickle.dumps(mm)
    np.savez(tmp_path / "x.npz", x=np.arange(3))
    bundle = mmap_array.open_npz(tmp_path / "x.npz")
    bundle.close()
    with pytest.raises(ValueError, match="cannot pickle .*x.npz.*closed"):
        pickle.dumps(bundle)


# --- the file changed in between -------------------------------------------------------


def expect_changed(blob, path, *phrases):
    with pytest.raises(mmap_array.FileChangedError) as info:
        pickle.loads(blob)
    error = info.value
    assert isinstance(error, OSError) and error.errno == errno.ESTALE
    assert error.filename == os.path.abspath(path)
    assert str(error).startswith(f"[Errno {errno.ESTALE}] cannot unpickle the mapping: ")
    assert str(error).endswith(f": {os.path.abspath(path)!r}")
    for phrase in phrases:
        assert phrase in str(error), str(error)
    return error


def test_a_replaced_file_is_refused_even_with_the_same_size(raw):
    path, data = raw
    blob = pickle.dumps(mmap_array.MemoryMappedArray(path))
    mmap_array.write_binary(path, np.zeros_like(data))  # atomic: a new inode
    expect_changed(blob, path, "the file changed since it was mapped", "replaced", "inode")


def test_a_resized_file_is_refused_naming_both_sizes(raw):
    path, data = raw
    blob = pickle.dumps(mmap_array.MemoryMappedArray(path))
    with open(path, "ab") as f:
        f.write(np.float64(1.0).tobytes())
    expect_changed(blob, path, "size changed from 8000 to 8008 bytes")


def test_a_read_only_pickle_refuses_a_file_modified_in_place(raw):
    path, _ = raw
    blob = pickle.dumps(mmap_array.MemoryMappedArray(path))
    with open(path, "r+b") as f:
        f.write(b"\xff" * 8)
    bump_mtime(path)
    expect_changed(blob, path, "it was modified (")


def test_an_r_plus_pickle_accepts_writes_in_place(raw):
    # Sharing "r+" is for writing: a write by any process moves the modification time.
    path, _ = raw
    mm = mmap_array.MemoryMappedArray(path, mode="r+")
    blob = pickle.dumps(mm)
    mm.get_array()[0] = 7.0
    mm.flush()
    bump_mtime(path)
    assert pickle.loads(blob).get_array()[0] == 7.0


def test_an_r_plus_pickle_still_refuses_a_replaced_file(raw):
    path, data = raw
    blob = pickle.dumps(mmap_array.MemoryMappedArray(path, mode="r+"))
    mmap_array.write_binary(path, data)
    expect_changed(blob, path, "replaced")


def test_containers_refuse_a_changed_file(tmp_path):
    path = tmp_path / "m.safetensors"
    mmap_array.save_safetensors(path, {"a": np.zeros(3, np.float32)})
    blob = pickle.dumps(mmap_array.open_safetensors(path))
    mmap_array.save_safetensors(path, {"a": np.ones(3, np.float32)})
    expect_changed(blob, path, "replaced")


def test_an_npy_header_rewritten_in_place_is_refused_for_r_plus(tmp_path):
    # Same file, same size, mtime not compared ("r+"): the header is checked on its own.
    path = tmp_path / "h.npy"
    np.save(path, np.zeros((4, 2), "<f8"))
    blob = pickle.dumps(mmap_array.open(path, mode="r+"))
    header = path.read_bytes()[:128]
    patched = header.replace(b"(4, 2)", b"(2, 4)")
    assert patched != header
    with open(path, "r+b") as f:
        f.write(patched)
    expect_changed(blob, path, ".npy header changed")


def test_a_deleted_file_is_file_not_found(raw):
    path, _ = raw
    blob = pickle.dumps(mmap_array.MemoryMappedArray(path))
    os.unlink(path)
    with pytest.raises(FileNotFoundError) as info:
        pickle.loads(blob)
    assert info.value.filename == os.path.abspath(path)


# --- identity --------------------------------------------------------------------------


def test_identity_describes_the_mapped_file_and_outlives_close(raw):
    path, _ = raw
    mm = mmap_array.MemoryMappedArray(path)
    st = os.stat(path)
    expected = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    assert mm.identity == expected
    assert isinstance(mm.identity, mmap_array.FileIdentity)
    assert (mm.identity.device, mm.identity.inode, mm.identity.size, mm.identity.mtime_ns) == expected
    mm.close()
    assert mm.identity == expected
    assert pickle.loads(pickle.dumps(mm.identity)) == expected
