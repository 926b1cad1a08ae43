"""The handle's surface: properties, paths, repr, context manager, closed state."""

from __future__ import annotations

import os
import weakref

import numpy as np
import pytest

import mmap_array
from conftest import open_descriptors, write_bytes


def test_properties(tmp_path):
    path = write_bytes(tmp_path / "grid.bin", b"\0" * 7 + np.arange(12, dtype=">i4").tobytes())
    mm = mmap_array.MemoryMappedArray(path, dtype=">i4", mode="c", shape=(3, 4), offset=7, order="F")
    assert mm.filename == str(path)
    assert mm.dtype == np.dtype(">i4") and isinstance(mm.dtype, np.dtype)
    assert mm.shape == (3, 4) and mm.ndim == 2
    assert mm.mode == "c" and mm.order == "F"
    assert mm.offset == 7 and mm.nbytes == 48
    assert mm.closed is False and mm.size() == 12


@pytest.mark.parametrize(
    "spelling",
    ["../data.bin", ".././data.bin", "..//data.bin", "../sub/../data.bin", "./../sub/./..//data.bin",
     "{root}/data.bin", "{root}//sub/.././/data.bin", "{root}/sub/../sub/../data.bin"],
)
def test_filename_is_absolute_and_normalised(tmp_path, monkeypatch, spelling):
    write_bytes(tmp_path / "data.bin", np.zeros(2))
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    given = spelling.format(root=tmp_path)
    mm = mmap_array.MemoryMappedArray(given)
    assert mm.filename == os.path.abspath(given) == str(tmp_path / "data.bin")


def test_dots_inside_a_name_are_not_components(tmp_path, monkeypatch):
    # The check for an already normal path looks at whole components: "..a" is a name.
    for name in ("..a", "a..", ".b", "b.", "..."):
        write_bytes(tmp_path / name, np.zeros(1))
        assert mmap_array.MemoryMappedArray(tmp_path / name).filename == str(tmp_path / name)
    monkeypatch.chdir("/")  # a working directory that ends in a separator
    relative = os.path.relpath(tmp_path / "...", "/")
    assert mmap_array.MemoryMappedArray(relative).filename == str(tmp_path / "...")


@pytest.mark.parametrize(
    "spell", [str, lambda path: os.fsencode(str(path)), lambda path: path], ids=["str", "bytes", "Path"]
)
def test_paths_may_be_str_bytes_or_pathlike(floats, spell):
    path, data = floats
    mm = mmap_array.MemoryMappedArray(spell(path))
    np.testing.assert_array_equal(mm.get_array(), data)
    assert mm.filename == str(path)


def test_non_utf8_file_names_work_and_round_trip(tmp_path):
    name = os.fsencode(str(tmp_path)) + b"/caf\xe9.bin"  # latin-1, not valid UTF-8
    with open(name, "wb") as f:
        f.write(np.arange(3.0).tobytes())
    mm = mmap_array.MemoryMappedArray(name)
    assert os.fsencode(mm.filename) == name
    assert mm.get_array().tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError) as info:
        mmap_array.MemoryMappedArray(name, dtype="f4", shape=5)
    assert "caf" in str(info.value)


def test_filename_is_a_plain_str_equal_to_abspath_for_every_kind_of_str(tmp_path):
    # An absolute ASCII str is taken as it is; a str subclass and a non-ASCII name are
    # encoded and decoded, and must come back the same.
    class Name(str):
        pass

    for given in (str(tmp_path / "plain.bin"), Name(tmp_path / "sub.bin"), str(tmp_path / "caf\u00e9.bin")):
        np.zeros(1).tofile(given)
        filename = mmap_array.MemoryMappedArray(given).filename
        assert type(filename) is str
        assert filename == os.path.abspath(given)


@pytest.mark.parametrize(
    ("bad", "error"),
    [("", ValueError), ("a\0b", ValueError), ("/tmp/a\0b", ValueError), (3, TypeError), (None, TypeError)],
)
def test_bad_paths_raise_before_touching_the_file_system(bad, error):
    with pytest.raises(error):
        mmap_array.MemoryMappedArray(bad)


def test_repr_names_file_dtype_shape_mode_and_state(floats):
    path, _ = floats
    mm = mmap_array.MemoryMappedArray(path, mode="r+")
    assert repr(mm) == f"<MemoryMappedArray {str(path)!r} dtype=float64 shape=(1000,) mode='r+'>"
    mm.close()
    assert repr(mm).endswith("mode='r+' closed>")


def test_context_manager_closes(floats):
    with mmap_array.MemoryMappedArray(floats[0]) as mm:
        assert not mm.closed
        arr = mm.get_array()
    assert mm.closed
    assert arr[0] == floats[1][0]


def test_context_manager_closes_on_error(floats):
    with pytest.raises(RuntimeError), mmap_array.MemoryMappedArray(floats[0]) as mm:
        raise RuntimeError("boom")
    assert mm.closed


@pytest.mark.parametrize(
    "call",
    [
        lambda mm: mm.get_array(),
        lambda mm: mm.size(),
        lambda mm: mm.flush(),
        lambda mm: memoryview(mm),
        lambda mm: np.asarray(mm),
        lambda mm: mm.__array__(),
    ],
    ids=["get_array", "size", "flush", "memoryview", "np.asarray", "__array__"],
)
def test_a_closed_handle_refuses_new_views_with_value_error(floats, call):
    mm = mmap_array.MemoryMappedArray(floats[0], mode="r+")
    mm.close()
    with pytest.raises(ValueError, match=f"{str(floats[0])!r}: the mapping is closed"):
        call(mm)


def test_properties_still_answer_after_close_and_close_is_idempotent(floats):
    mm = mmap_array.MemoryMappedArray(floats[0])
    mm.close()
    mm.close()
    assert mm.closed and mm.shape == (1000,) and mm.dtype == np.float64 and mm.nbytes == 8000


def test_array_protocol_dtype_and_copy(floats):
    path, data = floats
    mm = mmap_array.MemoryMappedArray(path)
    shared = np.asarray(mm)
    assert np.shares_memory(shared, mm.get_array()) and not shared.flags.writeable
    copied = np.array(mm)  # np.array copies by default
    assert not np.shares_memory(copied, mm.get_array()) and copied.flags.writeable
    as_f4 = np.asarray(mm, dtype=np.float32)
    np.testing.assert_array_equal(as_f4, data.astype(np.float32))
    with pytest.raises(ValueError):
        np.asarray(mm, dtype=np.float32, copy=False)
    assert np.shares_memory(np.asarray(mm, copy=False), mm.get_array())


def test_memoryview_is_read_only_for_read_only_mappings(floats):
    view = memoryview(mmap_array.MemoryMappedArray(floats[0]))
    assert view.readonly and view.format == "d" and view.shape == (1000,)
    with pytest.raises(TypeError):
        view[0] = 1.0


def test_handles_are_weak_referenceable(floats):
    mm = mmap_array.MemoryMappedArray(floats[0])
    ref = weakref.ref(mm)
    assert ref() is mm
    del mm
    assert ref() is None


def test_failed_opens_leak_no_descriptor(tmp_path, floats):
    write_bytes(tmp_path / "odd.bin", b"x" * 13)
    before = open_descriptors()
    for _ in range(200):
        for args in [(tmp_path / "odd.bin",), (tmp_path / "missing",), (tmp_path,)]:
            with pytest.raises((ValueError, OSError)):
                mmap_array.MemoryMappedArray(*args)
        mmap_array.MemoryMappedArray(floats[0], mode="r+").get_array()
    assert open_descriptors() == before
