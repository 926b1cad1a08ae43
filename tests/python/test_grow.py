"""Growing files: MemoryMappedArray.resize() and .append() on "r+" raw and .npy handles.

A resize moves the handle to a new mapping of the new extent; arrays taken before keep the
old mapping and stay valid. Shrinking while arrays of the cut-off extent are alive is a
BufferError that changes nothing. Files are checked with NumPy, the reader that matters.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import mmap_array
from conftest import run_on_small_filesystem, run_python


def npy(tmp_path, array, name="a.npy"):
    path = tmp_path / name
    np.save(path, array)
    return str(path)


def raw(tmp_path, array, name="a.bin"):
    path = tmp_path / name
    np.ascontiguousarray(array).tofile(path)
    return str(path)


# --- resize -----------------------------------------------------------------------------


def test_resize_grows_and_shrinks_a_raw_file(tmp_path):
    path = raw(tmp_path, np.arange(6.0).reshape(3, 2))
    mm = mmap_array.MemoryMappedArray(path, mode="r+", shape=(3, 2))
    mm.resize(5)
    assert (mm.shape, len(mm), mm.size(), mm.nbytes) == ((5, 2), 5, 10, 80)
    expected = np.vstack([np.arange(6.0).reshape(3, 2), np.zeros((2, 2))])
    assert np.array_equal(mm.get_array(), expected)
    assert np.array_equal(np.fromfile(path).reshape(-1, 2), expected)
    assert mm.identity.size == os.stat(path).st_size == 80
    mm.resize(1)
    assert mm.shape == (1, 2) and os.path.getsize(path) == 16
    assert np.array_equal(np.fromfile(path), [0.0, 1.0])
    mm.resize(0)
    assert mm.shape == (0, 2) and os.path.getsize(path) == 0 and mm.get_array().shape == (0, 2)
    mm.append(np.full((1, 2), 3.0))
    assert np.array_equal(np.fromfile(path), [3.0, 3.0])


def test_resize_keeps_a_raw_files_offset_bytes(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"HEADER!!" + np.arange(4, dtype="<i4").tobytes())
    mm = mmap_array.MemoryMappedArray(path, dtype="<i4", mode="r+", offset=8)
    mm.append(np.array([9], dtype="<i4"))
    assert path.read_bytes()[:8] == b"HEADER!!"
    assert np.array_equal(np.frombuffer(path.read_bytes()[8:], "<i4"), [0, 1, 2, 3, 9])
    assert mm.offset == 8


@pytest.mark.parametrize("shape", [(4,), (4, 3), (4, 2, 5)])
def test_resize_grows_and_shrinks_an_npy_file_checked_with_np_load(tmp_path, shape):
    data = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    path = npy(tmp_path, data)
    mm = mmap_array.open(path, "r+")
    offset = mm.offset
    mm.resize(7)
    loaded = np.load(path)
    assert loaded.shape == (7,) + shape[1:] == mm.shape
    assert np.array_equal(loaded[:4], data) and not loaded[4:].any()
    assert mm.offset == offset  # the header was rewritten in place
    mm.resize(2)
    assert np.array_equal(np.load(path), data[:2])
    assert np.array_equal(np.load(path, mmap_mode="r"), data[:2])
    assert os.path.getsize(path) == offset + data[:2].nbytes
    assert np.array_equal(mmap_array.open(path).get_array(), data[:2])


def test_fortran_order_grows_the_last_axis(tmp_path):
    data = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    path = npy(tmp_path, data)
    mm = mmap_array.open(path, "r+")
    assert mm.order == "F"
    mm.append(np.array([[10.0], [11.0]]))
    assert mm.shape == (2, 4) and len(mm) == 2
    loaded = np.load(path)
    assert loaded.flags.f_contiguous
    assert np.array_equal(loaded, np.hstack([data, [[10.0], [11.0]]]))
    mm.resize(2)
    assert np.array_equal(np.load(path), data[:, :2])
    hint = r"rows of shape \(2,\) do not fit.*shape \(2, k\).*row\[\.\.\., np\.newaxis\]"
    with pytest.raises(ValueError, match=hint):
        mm.append(np.array([1.0, 2.0]))


def test_fortran_order_raw_with_a_subarray_dtype_grows_its_last_item_axis(tmp_path):
    path = tmp_path / "a.bin"
    mm = mmap_array.MemoryMappedArray(path, dtype=("f8", (2,)), mode="w+", shape=(2, 3), order="F")
    mm.get_array()[...] = np.arange(12.0).reshape(2, 3, 2)
    before = mm.get_array().copy()
    rows = np.arange(100.0, 104.0).reshape(2, 1, 2)
    mm.append(rows)
    assert mm.shape == (2, 4, 2)
    assert np.array_equal(mm.get_array(), np.concatenate([before, rows], axis=1))
    reopened = mmap_array.MemoryMappedArray(path, dtype=("f8", (2,)), shape=(2, 4), order="F")
    assert np.array_equal(reopened.get_array(), mm.get_array())


def test_resize_to_the_same_length_changes_nothing(tmp_path):
    path = npy(tmp_path, np.arange(3))
    mm = mmap_array.open(path, "r+")
    identity = mm.identity
    mm.resize(3)
    mm.append(np.zeros((0,), dtype=mm.dtype))
    assert mm.identity == identity


@pytest.mark.parametrize(
    ("argument", "error", "message"),
    [(-1, ValueError, "at least 0"), (2.5, TypeError, None), ("3", TypeError, None), (2**64, ValueError, "too large")],
)
def test_resize_refuses_bad_lengths(tmp_path, argument, error, message):
    path = npy(tmp_path, np.arange(3))
    mm = mmap_array.open(path, "r+")
    with pytest.raises(error, match=message):
        mm.resize(argument)
    assert np.array_equal(np.load(path), np.arange(3))


def test_a_length_numpy_cannot_hold_is_refused_before_anything_changes(tmp_path):
    path = npy(tmp_path, np.zeros((2, 1024)))
    mm = mmap_array.open(path, "r+")
    with pytest.raises(ValueError, match="a.npy"):
        mm.resize(2**53)
    assert np.load(path).shape == (2, 1024)


def test_a_zero_dimensional_array_has_no_axis_to_grow(tmp_path):
    mm = mmap_array.open(npy(tmp_path, np.float64(3.0)), "r+")
    with pytest.raises(ValueError, match=r"0-d"):
        mm.resize(2)
    with pytest.raises(ValueError, match=r"0-d"):
        mm.append([1.0])


# --- append: dtypes and shapes ----------------------------------------------------------


def test_append_casts_only_where_safe(tmp_path):
    path = npy(tmp_path, np.zeros((1, 2)))
    mm = mmap_array.open(path, "r+")
    mm.append(np.array([[1, 2]], dtype=np.int16))  # int16 -> float64 is safe
    mm.append([[3.5, 4.5]])  # a list becomes float64
    with pytest.raises(TypeError, match=r"complex128.*a\.npy.*float64.*'safe'"):
        mm.append(np.array([[1j, 2j]]))
    f4 = mmap_array.open(npy(tmp_path, np.zeros(2, np.float32), "f4.npy"), "r+")
    with pytest.raises(TypeError, match="safe"):
        f4.append(np.array([1.0]))  # float64 -> float32 loses precision
    assert np.array_equal(np.load(path), [[0, 0], [1, 2], [3.5, 4.5]])


def test_append_keeps_byte_order_and_structured_records(tmp_path):
    record = np.dtype([("x", ">i4"), ("y", "<f8")])
    path = npy(tmp_path, np.zeros(2, record))
    mm = mmap_array.open(path, "r+")
    rows = np.array([(1, 2.5), (3, 4.5)], dtype=record)
    mm.append(rows)
    assert np.array_equal(np.load(path)[2:], rows)
    big = mmap_array.open(npy(tmp_path, np.arange(2, dtype=">i8"), "big.npy"), "r+")
    big.append(np.array([7, 8], dtype="<i8"))  # converted to the file's byte order
    assert np.load(big.filename).dtype == np.dtype(">i8")
    assert np.array_equal(np.load(big.filename), [0, 1, 7, 8])


def test_append_of_rows_in_any_memory_layout(tmp_path):
    path = npy(tmp_path, np.zeros((1, 3)))
    mm = mmap_array.open(path, "r+")
    block = np.arange(12.0).reshape(3, 4)
    mm.append(block[:, ::-1][:, :3])  # strided, reversed
    mm.append(np.asfortranarray(block[:2, :3]))
    assert np.array_equal(np.load(path)[1:], np.vstack([block[:, ::-1][:, :3], block[:2, :3]]))


@pytest.mark.parametrize("rows", [np.zeros(3), np.zeros((2, 4)), np.zeros((2, 3, 1)), np.float64(1.0)])
def test_append_with_the_wrong_shape_names_the_file_and_both_shapes(tmp_path, rows):
    path = npy(tmp_path, np.zeros((2, 3)))
    mm = mmap_array.open(path, "r+")
    with pytest.raises(ValueError) as raised:
        mm.append(rows)
    message = str(raised.value)
    assert path in message and "(2, 3)" in message and str(np.shape(rows)) in message and "(k, 3)" in message
    if np.ndim(rows) == 1:
        assert "row[np.newaxis]" in message
    assert np.load(path).shape == (2, 3) and mm.shape == (2, 3)


# --- modes and states -------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "name"), [("r", "read-only"), ("c", "copy-on-write")])
def test_read_only_and_copy_on_write_handles_refuse(tmp_path, mode, name):
    path = npy(tmp_path, np.arange(3.0))
    mm = mmap_array.open(path, mode)
    for call in (lambda: mm.resize(5), lambda: mm.append([1.0])):
        with pytest.raises(ValueError, match=f"{name}.*'r\\+'") as raised:
            call()
        assert path in str(raised.value)
    assert np.array_equal(np.load(path), np.arange(3.0)) and mm.shape == (3,)


def test_w_plus_and_created_handles_grow(tmp_path):
    mm = mmap_array.MemoryMappedArray(tmp_path / "w.bin", mode="w+", shape=(2,))
    mm.append([1.0])
    assert np.array_equal(np.fromfile(tmp_path / "w.bin"), [0, 0, 1])
    created = mmap_array.create(tmp_path / "c.npy", (0, 2), "u1")
    created.append(np.ones((3, 2), np.uint8))
    created.flush()
    assert np.load(tmp_path / "c.npy").shape == (3, 2)


def test_a_closed_handle_refuses(tmp_path):
    mm = mmap_array.open(npy(tmp_path, np.arange(3.0)), "r+")
    mm.close()
    with pytest.raises(ValueError, match="closed"):
        mm.resize(5)
    with pytest.raises(ValueError, match="closed"):
        mm.append([1.0])


@pytest.mark.parametrize(
    "call",
    ["mm.resize(Closing(20))", "mm.resize(Closing(1))", "mm.append(ClosingRows())"],
    ids=["grow", "shrink", "append"],
)
def test_a_handle_closed_by_its_own_arguments_refuses_and_does_not_crash(tmp_path, call):
    # new_length's __index__ and the rows' __array__ run after the handle was found open.
    path = npy(tmp_path, np.arange(6.0).reshape(3, 2))
    result = run_python(
        f"""
        import sys
        import numpy as np
        import mmap_array
        mm = mmap_array.open(sys.argv[1], "r+")
        class Closing:
            def __init__(self, n):
                self.n = n
            def __index__(self):
                mm.close()
                return self.n
        class ClosingRows:
            def __array__(self, dtype=None, copy=None):
                mm.close()
                return np.ones((2, 2))
        try:
            {call}
        except ValueError as error:
            print("ValueError", "closed" in str(error))
        """,
        args=(str(path),),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ValueError", "True"]
    assert np.load(path).shape == (3, 2)


@pytest.mark.parametrize(
    "call",
    [
        "mm.populate(Growing(0), 10)",
        "mm.advise('willneed', Growing(0), 10)",
        "mm.prefetch(Growing(0), 10)",
        "mm.residency(Growing(0), 10)",
        "mm.residency_map(Growing(2), 0, 10)",
        "mm.take(GrowingIndices())",
    ],
    ids=["populate", "advise", "prefetch", "residency", "residency_map", "take"],
)
def test_a_handle_grown_by_the_arguments_of_an_access_call_is_runtime_error(tmp_path, call):
    # The call took the handle's mapping before its arguments ran and grew it to a new one.
    mm = mmap_array.open(npy(tmp_path, np.arange(4000.0).reshape(1000, 4)), "r+")

    class Growing:
        def __init__(self, n):
            self.n = n

        def __index__(self):
            mm.append(np.ones((5000, 4)))
            return self.n

    class GrowingIndices:
        def __array__(self, dtype=None, copy=None):
            mm.append(np.ones((5000, 4)))
            return np.array([1, 2])

    with pytest.raises(RuntimeError, match="resized .* while its arguments were converted"):
        eval(call, {"mm": mm, "Growing": Growing, "GrowingIndices": GrowingIndices})
    assert mm.shape == (6000, 4)
    assert mm.take([1, 5999]).tolist() == [[4.0, 5.0, 6.0, 7.0], [1.0] * 4]


def test_a_truncated_handle_raises_file_truncated_error(tmp_path):
    result = run_python(
        """
        import os, numpy as np, mmap_array
        np.save("a.npy", np.arange(4096.0))
        mm = mmap_array.open("a.npy", "r+")
        arr = mm.get_array()
        os.truncate("a.npy", 64)
        try:
            arr.sum()
        except mmap_array.FileTruncatedError:
            pass
        for call in (lambda: mm.append([1.0]), lambda: mm.resize(10)):
            try:
                call()
            except mmap_array.FileTruncatedError as error:
                print("FileTruncatedError", error.filename.endswith("a.npy"))
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["FileTruncatedError True"] * 2


def test_containers_have_no_resize(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.arange(3))
    with mmap_array.open_npz(tmp_path / "a.npz", "r+") as container:
        assert not hasattr(container, "resize") and not hasattr(container, "append")


# --- lifetimes --------------------------------------------------------------------------


def test_arrays_taken_before_a_growth_stay_valid_and_coherent(tmp_path):
    path = npy(tmp_path, np.arange(4.0))
    mm = mmap_array.open(path, "r+")
    old = mm.get_array()
    view = old[1:3]
    buffer = memoryview(mm)
    mm.append(np.arange(10.0, 1000.0))
    assert old.shape == (4,) and np.array_equal(view, [1.0, 2.0]) and buffer.shape == (4,)
    new = mm.get_array()
    old[0] = -1.0  # the same file, the same page cache
    assert new[0] == -1.0
    new[1] = -2.0
    assert view[0] == -2.0
    mm.close()
    del new
    assert np.array_equal(old, [-1.0, -2.0, 2.0, 3.0])


@pytest.mark.parametrize("fmt", ["npy", "raw"])
def test_shrinking_with_live_arrays_is_buffer_error_and_changes_nothing(tmp_path, fmt):
    data = np.arange(10.0)
    path = npy(tmp_path, data) if fmt == "npy" else raw(tmp_path, data)
    mm = mmap_array.open(path, "r+", **({} if fmt == "npy" else {"dtype": "f8"}))
    arr = mm.get_array()
    view = arr[8:]
    buffer = memoryview(mm)
    before = open(path, "rb").read()
    with pytest.raises(BufferError) as raised:
        mm.resize(5)
    # Counted through their mapping: the view holds `arr`, the memoryview an array of its own.
    assert path in str(raised.value) and "2 array(s)" in str(raised.value)
    assert open(path, "rb").read() == before and mm.shape == (10,)
    del arr, buffer  # the view still holds its array
    with pytest.raises(BufferError, match="1 array"):
        mm.resize(5)
    del view
    mm.resize(5)
    assert mm.shape == (5,) and os.path.getsize(path) == len(before) - 40


def test_arrays_of_an_older_extent_block_only_the_shrinks_that_cut_them(tmp_path):
    path = npy(tmp_path, np.arange(4.0))
    mm = mmap_array.open(path, "r+")
    mm.append(np.arange(4.0, 8.0))  # 8 rows
    six = (mm.resize(6), mm.get_array())[1]  # an array of 6 rows, then grow to 10
    mm.resize(10)
    mm.resize(6)  # cuts nothing it views
    with pytest.raises(BufferError, match="1 array"):
        mm.resize(5)
    del six
    mm.resize(5)
    assert np.array_equal(np.load(path), np.arange(5.0))


def test_arrays_via_the_array_interface_and_dlpack_count_as_alive(tmp_path):
    mm = mmap_array.open(npy(tmp_path, np.arange(8.0)), "r+")
    through_interface = np.asarray(mm.__array_interface__["data"])
    with pytest.raises(BufferError):
        mm.resize(1)
    del through_interface
    capsule_array = np.from_dlpack(mm)
    with pytest.raises(BufferError):
        mm.resize(1)
    del capsule_array
    mm.resize(1)


# --- state that follows the new extent --------------------------------------------------


def test_shape_size_pickle_dask_and_interfaces_follow_a_resize(tmp_path):
    path = npy(tmp_path, np.arange(6.0).reshape(3, 2))
    mm = mmap_array.open(path, "r+")
    old_pickle = pickle.dumps(mm)
    token_before = mm.__dask_tokenize__()
    mm.append(np.ones((2, 2)))
    assert (mm.shape, len(mm), mm.size(), mm.nbytes) == ((5, 2), 5, 10, 80)
    assert mm.identity == mmap_array._core._file_identity(path)
    assert np.asarray(mm).shape == (5, 2) and memoryview(mm).shape == (5, 2)
    assert mm.__array_interface__["shape"] == (5, 2)
    assert mm.__dask_tokenize__() != token_before
    assert mm.to_dask(chunks=2).compute().shape == (5, 2)
    assert np.array_equal(mm[3:], np.ones((2, 2))) and "shape=(5, 2)" in repr(mm)
    again = pickle.loads(pickle.dumps(mm))  # carries the new identity and shape
    assert again.shape == (5, 2) and np.array_equal(again.get_array(), mm.get_array())
    with pytest.raises(mmap_array.FileChangedError, match="size changed"):
        pickle.loads(old_pickle)


# --- the file changed under the handle --------------------------------------------------


def test_a_file_replaced_under_the_handle_is_file_changed_error(tmp_path):
    path = npy(tmp_path, np.arange(3.0))
    mm = mmap_array.open(path, "r+")
    np.save(tmp_path / "other.npy", np.arange(5.0))
    os.replace(tmp_path / "other.npy", path)
    with pytest.raises(mmap_array.FileChangedError, match="replaced") as raised:
        mm.append([1.0])
    assert raised.value.errno == errno.ESTALE and raised.value.filename == path
    assert np.array_equal(np.load(path), np.arange(5.0)) and mm.shape == (3,)


def test_a_file_resized_or_deleted_under_the_handle_is_file_changed_error(tmp_path):
    path = raw(tmp_path, np.arange(3.0))
    mm = mmap_array.MemoryMappedArray(path, mode="r+")
    with open(path, "ab") as other_writer:
        other_writer.write(np.float64(9).tobytes())
    with pytest.raises(mmap_array.FileChangedError, match="size changed from 24 to 32"):
        mm.resize(10)
    assert os.path.getsize(path) == 32
    os.remove(path)
    with pytest.raises(mmap_array.FileChangedError, match="deleted or renamed"):
        mm.resize(10)


def test_an_npy_header_rewritten_under_the_handle_is_file_changed_error(tmp_path):
    path = npy(tmp_path, np.arange(4.0))
    mm = mmap_array.open(path, "r+")
    before = open(path, "rb").read()
    changed = before.replace(b"(4,)", b"(3,)")
    with open(path, "r+b") as other_writer:  # in place: same inode, same size
        other_writer.write(changed)
    with pytest.raises(mmap_array.FileChangedError, match=r"header changed.*\(4,\) -> \(3,\)"):
        mm.append([5.0])
    assert open(path, "rb").read() == changed


# --- a header without room --------------------------------------------------------------


def tight_npy(path, count):
    """An .npy file whose header has no padding at all: NumPy's text, then the newline."""
    text = f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({count},), }}\n".encode()
    assert (10 + len(text)) % 8 == 0
    data = (np.arange(count) % 251).astype(np.uint8).tobytes()
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data)
    return str(path)


def test_a_header_without_room_is_rewritten_as_a_complete_new_file(tmp_path):
    path = tight_npy(tmp_path / "tight.npy", 99999)  # 10 + 62 bytes: no room for a sixth digit
    original = np.load(path)
    assert original.shape == (99999,)
    mm = mmap_array.open(path, "r+")
    assert mm.offset == 72
    inode = os.stat(path).st_ino
    mm.resize(12345)  # fits: rewritten in place
    assert os.stat(path).st_ino == inode and mm.offset == 72
    assert np.array_equal(np.load(path), original[:12345])
    mm.resize(99999)
    arr = mm.get_array()
    with pytest.raises(BufferError, match="no room for the new shape"):
        mm.append(np.arange(3, dtype=np.uint8))
    assert np.load(path).shape == (99999,) and os.stat(path).st_ino == inode
    del arr
    mm.append(np.arange(3, dtype=np.uint8))  # 100002 entries: a new file with a 128-byte header
    assert os.stat(path).st_ino != inode and mm.offset == 128
    assert mm.identity.inode == os.stat(path).st_ino
    expected = np.concatenate([original[:12345], np.zeros(99999 - 12345, np.uint8), np.arange(3, dtype=np.uint8)])
    assert np.array_equal(np.load(path), expected)
    assert np.array_equal(mm.get_array(), expected)
    assert sorted(os.listdir(tmp_path)) == ["tight.npy"]
    mm.append(np.zeros(10**6, np.uint8))  # NumPy's growth room now: in place again
    assert mm.offset == 128


# --- a full disk ------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["mm.resize(10_000_000)", "mm.append(np.ones(1_000_000))"])
@pytest.mark.parametrize("fmt", ["npy", "raw"])
def test_a_full_disk_is_enospc_and_leaves_the_file_as_it_was(fmt, call):
    result = run_on_small_filesystem(
        f"""
        import json, os, sys, numpy as np, mmap_array
        path = os.path.join(sys.argv[1], "data.{fmt}")
        if "{fmt}" == "npy":
            np.save(path, np.arange(1000.0))
            mm = mmap_array.open(path, "r+")
        else:
            np.arange(1000.0).tofile(path)
            mm = mmap_array.MemoryMappedArray(path, mode="r+")
        before = open(path, "rb").read()
        outcome = {{}}
        try:
            {call}
        except OSError as error:
            outcome.update(errno=error.errno, filename=error.filename == path, message=str(error))
        outcome["same"] = open(path, "rb").read() == before
        outcome["listing"] = sorted(os.listdir(sys.argv[1]))
        mm.append(np.array([5.0]))  # the handle still works
        outcome["after"] = (np.load(path) if "{fmt}" == "npy" else np.fromfile(path))[-2:].tolist()
        print(json.dumps(outcome))
        """
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["errno"] == errno.ENOSPC and outcome["filename"], outcome
    assert "growing the file" in outcome["message"]
    assert outcome["same"] and outcome["listing"] == [f"data.{fmt}"]
    assert outcome["after"] == [999.0, 5.0]


# --- many appends, other readers --------------------------------------------------------


def test_ten_thousand_appended_batches_checked_with_np_load_every_hundred(tmp_path):
    path = str(tmp_path / "log.npy")
    mm = mmap_array.create(path, (0, 4), "f4")
    sizes = np.random.default_rng(1).integers(1, 5, size=10_000)
    start = time.perf_counter()
    for i, k in enumerate(sizes):
        mm.append(np.full((k, 4), i, dtype=np.float32))
        if i % 100 == 99:
            loaded = np.load(path)
            assert loaded.shape == (sizes[: i + 1].sum(), 4)
            assert np.array_equal(loaded[:, 0], np.repeat(np.arange(i + 1, dtype=np.float32), sizes[: i + 1]))
    elapsed = time.perf_counter() - start
    assert mm.shape == (sizes.sum(), 4)
    assert np.array_equal(np.load(path, mmap_mode="r")[-sizes[-1] :], np.full((sizes[-1], 4), 9999.0))
    # A generous bound for a busy machine; it takes well under a second on a quiet one.
    assert elapsed < 20, elapsed


def test_a_reader_process_sees_the_grown_file_and_an_earlier_one_keeps_its_extent(tmp_path):
    path = npy(tmp_path, np.arange(100.0))
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys, numpy as np
                path = sys.argv[1]
                early = np.load(path, mmap_mode="r")
                memmap = np.memmap(path, dtype="f8", mode="r", offset=128, shape=(100,))
                print("mapped", flush=True)
                sys.stdin.readline()
                print(early.shape, float(early.sum()), float(memmap[-1]), np.load(path).shape,
                      np.load(path, mmap_mode="r")[-1], flush=True)
                """
            ),
            path,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert reader.stdout.readline().strip() == "mapped"
        mm = mmap_array.open(path, "r+")
        assert mm.offset == 128
        mm.append(np.arange(100.0, 1000.0))
        out, _ = reader.communicate("go\n", timeout=60)
    finally:
        reader.kill()
        reader.wait()
    assert out.split() == ["(100,)", str(float(np.arange(100.0).sum())), "99.0", "(1000,)", "999.0"]


def test_old_mappings_are_unmapped_unless_arrays_hold_them(tmp_path):
    from conftest import mappings_of

    path = npy(tmp_path, np.arange(4.0))
    mm = mmap_array.open(path, "r+")
    for _ in range(100):
        mm.append([1.0])
    assert mappings_of(path) == 1
    kept = []
    for _ in range(3):
        kept.append(mm.get_array())
        mm.append([2.0])
    assert mappings_of(path) == 4
    del kept
    assert mappings_of(path) == 1


# --- crash safety -----------------------------------------------------------------------


def test_what_a_crash_between_the_steps_leaves_is_read_as_the_old_array(tmp_path):
    # Grown and filled, header not yet rewritten: the old header and bytes after its array.
    data = np.arange(6.0).reshape(3, 2)
    path = npy(tmp_path, data)
    with open(path, "ab") as f:
        f.write(np.ones((4, 2)).tobytes())
    assert np.array_equal(np.load(path), data)
    assert np.array_equal(np.load(path, mmap_mode="r"), data)
    mm = mmap_array.open(path, "r+")
    assert np.array_equal(mm.get_array(), data)
    # Growing such a file rewrites those bytes: the new rows are zeros, not leftovers.
    mm.resize(5)
    assert np.array_equal(np.load(path), np.vstack([data, np.zeros((2, 2))]))


def test_a_writer_killed_while_appending_leaves_a_file_numpy_reads(tmp_path):
    path = str(tmp_path / "log.npy")
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys, numpy as np, mmap_array
                mm = mmap_array.create(sys.argv[1], (0, 3), "i8")
                print("ready", flush=True)
                i = 0
                while True:
                    mm.append(np.full((i % 7 + 1, 3), i, dtype=np.int64))
                    i += 1
                """
            ),
            path,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(0.3)
    finally:
        writer.kill()
        writer.wait()
    # The header is written after its rows: whole batches only, whatever the moment of the kill.
    for loaded in (np.load(path), np.load(path, mmap_mode="r"), mmap_array.open(path).get_array()):
        assert len(loaded) > 0
        batches = np.arange(loaded[-1, 0] + 1)
        assert np.array_equal(loaded[:, 0], np.repeat(batches, batches % 7 + 1))
        assert np.array_equal(loaded, np.repeat(loaded[:, :1], 3, axis=1))


@pytest.mark.parametrize("fmt", ["npy", "raw"])
def test_appending_the_handles_own_rows_doubles_the_file(tmp_path, fmt):
    data = np.arange(3000.0).reshape(1000, 3)
    path = npy(tmp_path, data) if fmt == "npy" else raw(tmp_path, data)
    mm = mmap_array.open(path, "r+", **({} if fmt == "npy" else {"dtype": "f8", "shape": (1000, 3)}))
    mm.append(mm.get_array())  # the source is the mapping of the very file that grows
    mm.append(mm[-10:])
    expected = np.vstack([data, data, data[-10:]])
    assert np.array_equal(mm.get_array(), expected)
    reread = np.load(path) if fmt == "npy" else np.fromfile(path).reshape(-1, 3)
    assert np.array_equal(reread, expected)


def test_other_threads_during_a_growth_see_the_old_extent_and_cannot_resize(tmp_path, fail_syscalls_library):
    from conftest import run_python_with_faults

    result = run_python_with_faults(
        """
        import threading, time, numpy as np, mmap_array
        np.save("a.npy", np.arange(4.0))
        mm = mmap_array.open("a.npy", "r+")
        worker = threading.Thread(target=mm.append, args=(np.arange(4.0, 8.0),))
        worker.start()
        time.sleep(0.3)  # the worker waits in posix_fallocate, without the GIL
        try:
            mm.resize(100)
        except RuntimeError as error:
            print("RuntimeError", "another thread is resizing" in str(error))
        print(mm.shape, mm.get_array().sum())
        worker.join()
        print(mm.shape, np.load("a.npy").tolist())
        worker = threading.Thread(target=mm.append, args=(np.array([8.0]),))
        worker.start()
        time.sleep(0.3)
        mm.close()  # while the growth runs: the file grows, the handle stays closed
        worker.join()
        print(mm.closed, np.load("a.npy").shape)
        """,
        fail_syscalls_library,
        cwd=tmp_path,
        stall="posix_fallocate:800",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "RuntimeError True",
        "(4,) 6.0",
        "(8,) [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]",
        "True (9,)",
    ]
