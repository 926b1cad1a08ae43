"""Mapping modes: NumPy's vocabulary, and what each does to the file."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

import mmap_array
from conftest import mappings_of, run_python, unprivileged_prefix, write_bytes

ALIASES = [("r", "r"), ("readonly", "r"), ("r+", "r+"), ("readwrite", "r+"), ("c", "c"), ("copyonwrite", "c")]


@pytest.mark.parametrize(("given", "canonical"), ALIASES)
def test_mode_aliases_map_to_the_canonical_name(floats, given, canonical):
    path, _ = floats
    assert mmap_array.MemoryMappedArray(path, mode=given).mode == canonical


@pytest.mark.parametrize("given", ["w+", "write"])
def test_write_mode_aliases(tmp_path, given):
    mm = mmap_array.MemoryMappedArray(tmp_path / "new.bin", mode=given, shape=3)
    assert mm.mode == "w+"


@pytest.mark.parametrize("bad", ["rw", "w", "", "R", "r+b", "readonly "])
def test_unknown_modes_raise_value_error_listing_the_valid_ones(floats, bad):
    path, _ = floats
    with pytest.raises(ValueError, match=r"mode must be one of 'r', 'r\+', 'w\+', 'c'"):
        mmap_array.MemoryMappedArray(path, mode=bad)


@pytest.mark.parametrize("bad", [1, None, b"r", "r\0"])
def test_modes_that_are_not_a_valid_str_raise_value_error_like_numpy(floats, bad):
    with pytest.raises(ValueError, match="mode must be one of") as info:
        mmap_array.MemoryMappedArray(floats[0], mode=bad)
    assert str(floats[0]) in str(info.value) and repr(bad) in str(info.value)


def test_read_only_arrays_are_not_writeable(floats):
    arr = mmap_array.MemoryMappedArray(floats[0], mode="r").get_array()
    assert not arr.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        arr[0] = 1.0
    with pytest.raises(ValueError):
        arr.flags.writeable = True


def test_read_write_writes_reach_the_file_and_other_mappings(floats):
    path, data = floats
    mm = mmap_array.MemoryMappedArray(path, mode="r+")
    other = mmap_array.MemoryMappedArray(path, mode="r").get_array()
    arr = mm.get_array()
    assert arr.flags.writeable
    arr[:3] = [10.0, 20.0, 30.0]
    assert list(other[:3]) == [10.0, 20.0, 30.0]  # shared pages, before any flush
    mm.flush()
    on_disk = np.frombuffer(path.read_bytes(), dtype=np.float64)
    assert list(on_disk[:3]) == [10.0, 20.0, 30.0]
    np.testing.assert_array_equal(on_disk[3:], data[3:])


def test_read_write_requires_an_existing_file(tmp_path):
    path = tmp_path / "absent.bin"
    with pytest.raises(FileNotFoundError):
        mmap_array.MemoryMappedArray(path, mode="r+")
    assert not path.exists()


def test_read_write_on_a_read_only_file_is_permission_error(tmp_path):
    tmp_path.chmod(0o755)
    path = write_bytes(tmp_path / "locked.bin", np.arange(4.0))
    path.chmod(0o444)
    result = run_python(
        f"""
        import mmap_array
        print(mmap_array.MemoryMappedArray({str(path)!r}, mode="r").size())
        try:
            mmap_array.MemoryMappedArray({str(path)!r}, mode="r+")
        except PermissionError as error:
            print(error.errno)
        """,
        prefix=unprivileged_prefix(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["4", str(errno.EACCES)]


def test_copy_on_write_arrays_are_writeable_but_the_file_never_changes(floats):
    path, data = floats
    before = path.read_bytes()
    mm = mmap_array.MemoryMappedArray(path, mode="c")
    arr = mm.get_array()
    arr[:] = -1.0
    mm.flush()  # nothing to write back
    assert (arr == -1.0).all()
    assert path.read_bytes() == before
    np.testing.assert_array_equal(mmap_array.MemoryMappedArray(path).get_array(), data)


def test_copy_on_write_works_on_a_read_only_file(tmp_path):
    tmp_path.chmod(0o755)
    path = write_bytes(tmp_path / "locked.bin", np.arange(4.0))
    path.chmod(0o444)
    result = run_python(
        f"""
        import mmap_array
        arr = mmap_array.MemoryMappedArray({str(path)!r}, mode="c").get_array()
        arr[0] = 99.0
        print(arr[0])
        """,
        prefix=unprivileged_prefix(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["99.0"]
    assert path.read_bytes() == np.arange(4.0).tobytes()


def test_write_mode_creates_a_zero_filled_preallocated_file(tmp_path):
    path = tmp_path / "new.bin"
    mm = mmap_array.MemoryMappedArray(path, dtype="int32", mode="w+", shape=(1000, 3))
    arr = mm.get_array()
    assert arr.shape == (1000, 3) and arr.dtype == np.int32 and arr.flags.writeable
    assert not arr.any()
    st = path.stat()
    assert st.st_size == 12_000
    assert st.st_blocks * 512 >= 12_000  # blocks are reserved: a full disk fails now, not later
    arr[-1] = [7, 8, 9]
    mm.flush()
    assert np.frombuffer(path.read_bytes(), dtype=np.int32)[-3:].tolist() == [7, 8, 9]


def test_write_mode_with_offset_zero_fills_the_prefix(tmp_path):
    path = tmp_path / "new.bin"
    mm = mmap_array.MemoryMappedArray(path, dtype="u2", mode="w+", shape=4, offset=5)
    mm.get_array()[:] = [1, 2, 3, 4]
    mm.flush()
    raw = path.read_bytes()
    assert raw[:5] == b"\0" * 5
    assert np.frombuffer(raw[5:], dtype="u2").tolist() == [1, 2, 3, 4]
    assert mm.offset == 5 and mm.nbytes == 8


def test_write_mode_replaces_a_file_without_disturbing_its_live_mappings(floats):
    path, data = floats
    old = mmap_array.MemoryMappedArray(path).get_array()
    new = mmap_array.MemoryMappedArray(path, mode="w+", shape=2).get_array()
    assert path.stat().st_size == 16
    assert not new.any()
    np.testing.assert_array_equal(old, data)  # the old inode is still mapped, whole


def test_write_mode_keeps_the_permission_bits_of_the_file_it_replaces(floats):
    path, _ = floats
    path.chmod(0o640)
    mmap_array.MemoryMappedArray(path, mode="w+", shape=1)
    assert path.stat().st_mode & 0o777 == 0o640


def test_write_mode_needs_a_shape(tmp_path):
    with pytest.raises(ValueError, match="needs a shape"):
        mmap_array.MemoryMappedArray(tmp_path / "new.bin", mode="w+")
    assert os.listdir(tmp_path) == []


def test_write_mode_in_a_missing_directory_names_the_target(tmp_path):
    path = tmp_path / "no" / "such" / "dir.bin"
    with pytest.raises(FileNotFoundError) as info:
        mmap_array.MemoryMappedArray(path, mode="w+", shape=1)
    assert info.value.filename == str(path)


def test_write_mode_of_zero_bytes_makes_an_empty_file(tmp_path):
    path = tmp_path / "empty.bin"
    mm = mmap_array.MemoryMappedArray(path, mode="w+", shape=(0, 4))
    assert mm.get_array().shape == (0, 4)
    assert path.stat().st_size == 0
    assert mappings_of(path) == 0
    mm.flush()


def test_flush_is_a_no_op_for_read_only_and_copy_on_write(floats):
    for mode in ("r", "c"):
        mmap_array.MemoryMappedArray(floats[0], mode=mode).flush()


def test_flush_after_the_file_was_replaced_still_succeeds(floats):
    path, _ = floats
    mm = mmap_array.MemoryMappedArray(path, mode="r+")
    mm.get_array()[0] = 5.0
    os.replace(write_bytes(path.with_name("other.bin"), b"x" * 8), path)
    mm.flush()  # syncs the mapped (now unlinked) inode, not the new file at the path
    assert path.read_bytes() == b"x" * 8
