""".npy files: bit-identical round trips with NumPy in both directions, create, save, open."""

from __future__ import annotations

import os
import struct
import sys
from typing import Literal

import numpy as np
import pytest

import mmap_array

# Every dtype NumPy writes to .npy without pickling. (Records with out-of-order fields are
# not among them: NumPy has no descr for them, so np.save refuses them.)
DTYPES = [
    "?", "i1", "u1", "<i2", ">i2", "<u4", ">u4", "<i8", ">u8",
    "<f2", ">f4", "<f8", ">f8", "<c8", ">c16", "S1", "S9", "<U1", ">U5", "V3",
    "<M8[ns]", ">M8[D]", "<m8[us]", "<M8",
    np.dtype([("a", "<i4"), ("b", ">f8")]),
    np.dtype([("a", "u1"), ("b", "<f8"), ("c", "?")], align=True),
    np.dtype([("xy", "<f4", (2, 3)), ("name", "S3"), ("inner", [("p", ">i2"), ("q", "?")])]),
    np.dtype([(("Title of x", "x"), "<f8"), ("y", "<i2")]),
]
if np.dtype(np.longdouble).itemsize > 8:
    DTYPES += [np.dtype(np.longdouble), np.dtype(np.clongdouble)]

SHAPES = [(), (0,), (7,), (3, 4), (2, 0, 3), (2, 3, 4)]


def _sample(dtype: np.dtype, shape: tuple[int, ...], order: Literal["C", "F"] = "C") -> np.ndarray:
    """An array of ``dtype`` and ``shape`` with varied bits, including non-canonical ones."""
    count = int(np.prod(shape))
    raw = np.random.default_rng(11).integers(0, 256, size=count * dtype.itemsize, dtype=np.uint8)
    flat = raw.view(dtype) if count else np.zeros(0, dtype)
    return np.asarray(flat.reshape(shape), order=order)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_numpy_save_then_open_is_bit_identical(tmp_path, dtype, shape):
    dtype = np.dtype(dtype)
    expected = _sample(dtype, shape)
    np.save(tmp_path / "a.npy", expected)
    mm = mmap_array.open(tmp_path / "a.npy")
    arr = mm.get_array()
    assert mm.format == "npy" and arr.dtype == dtype and arr.shape == shape
    assert arr.tobytes() == expected.tobytes()
    assert not arr.flags.writeable and not arr.flags.owndata


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_save_then_numpy_load_is_bit_identical(tmp_path, dtype, shape):
    dtype = np.dtype(dtype)
    expected = _sample(dtype, shape)
    mmap_array.save(tmp_path / "a.npy", expected)
    loaded = np.load(tmp_path / "a.npy")
    assert loaded.dtype == dtype and loaded.shape == shape
    assert loaded.tobytes() == expected.tobytes()


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_every_format_version_reads(tmp_path, version):
    dtype = np.dtype([("température", "<f4"), ("n", "<i2")]) if version == (3, 0) else np.dtype("<f8")
    expected = _sample(dtype, (5, 2))
    with open(tmp_path / "v.npy", "wb") as f:
        np.lib.format.write_array(f, expected, version=version)
    arr = mmap_array.open(tmp_path / "v.npy").get_array()
    assert arr.dtype == dtype and arr.tobytes() == expected.tobytes()


def test_fortran_order_round_trips_both_ways(tmp_path):
    expected = _sample(np.dtype("<i4"), (3, 5), order="F")
    np.save(tmp_path / "np.npy", expected)
    arr = mmap_array.open(tmp_path / "np.npy").get_array()
    assert arr.flags.f_contiguous and not arr.flags.c_contiguous
    np.testing.assert_array_equal(arr, expected)

    mmap_array.save(tmp_path / "ours.npy", expected)
    with open(tmp_path / "ours.npy", "rb") as f:
        assert np.lib.format.read_magic(f) == (1, 0)
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    assert fortran and shape == (3, 5) and dtype == np.dtype("<i4")
    assert (tmp_path / "ours.npy").read_bytes()[-expected.nbytes :] == expected.tobytes(order="F")
    np.testing.assert_array_equal(np.load(tmp_path / "ours.npy"), expected)


def test_saved_header_is_plain_aligned_and_has_room_to_grow(tmp_path):
    mmap_array.save(tmp_path / "a.npy", np.zeros((3, 2)))
    raw = (tmp_path / "a.npy").read_bytes()
    assert raw[:8] == b"\x93NUMPY\x01\x00"
    (length,) = struct.unpack("<H", raw[8:10])
    header = raw[10 : 10 + length].decode("latin1")
    assert (10 + length) % 64 == 0 and header.endswith("\n")
    assert "'shape': (3, 2)" in header and "L" not in header  # plain integers
    # Growing the first axis to a 21-digit number fits in place: the data does not move.
    grown = header.replace("(3, 2)", "(300000000000000000000, 2)")
    assert len(grown.rstrip()) <= length - 1


def test_save_writes_non_contiguous_and_big_endian_arrays(tmp_path):
    source = np.arange(60, dtype=">i8").reshape(3, 20)[:, ::3]
    mmap_array.save(tmp_path / "a.npy", source)
    loaded = np.load(tmp_path / "a.npy")
    assert loaded.dtype == np.dtype(">i8")
    np.testing.assert_array_equal(loaded, source)


def test_save_refuses_objects_and_leaves_nothing(tmp_path):
    with pytest.raises(TypeError, match="Python objects"):
        mmap_array.save(tmp_path / "a.npy", np.array([1, None], dtype=object))
    assert os.listdir(tmp_path) == []


def test_save_over_a_mapped_file_leaves_its_mappings_intact(tmp_path):
    path = tmp_path / "model.npy"
    mmap_array.save(path, np.full(100_000, 1.0))
    live = mmap_array.open(path).get_array()
    mmap_array.save(path, np.full(10, 2.0))
    assert live.size == 100_000 and (live == 1.0).all()
    np.testing.assert_array_equal(np.load(path), np.full(10, 2.0))


def test_save_raw_writes_items_like_tofile(tmp_path):
    values = np.arange(12, dtype="<u2").reshape(3, 4).T
    mmap_array.save(tmp_path / "a.bin", values, format="raw")
    values.tofile(tmp_path / "b.bin")
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()


def test_save_with_fsync(tmp_path):
    mmap_array.save(tmp_path / "a.npy", np.arange(3), fsync=True)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.arange(3))


def test_save_over_four_gib(tmp_path):
    count = 2**29 + 3  # 4 GiB + 24 bytes of float64, from a broadcast view that costs no memory
    source = np.broadcast_to(np.float64(1.5), (count,))
    path = tmp_path / "big.npy"
    mmap_array.save(path, source)
    mm = mmap_array.open(path)
    assert mm.shape == (count,) and mm.nbytes == count * 8
    arr = mm.get_array()
    assert arr[0] == arr[2**29] == arr[-1] == 1.5
    assert np.load(path, mmap_mode="r").shape == (count,)


def test_create_npy_is_zero_filled_writable_and_readable_by_numpy(tmp_path):
    path = tmp_path / "grid.npy"
    mm = mmap_array.create(path, (100, 3), "float32")
    assert mm.mode == "r+" and mm.format == "npy" and mm.shape == (100, 3)
    arr = mm.get_array()
    assert not arr.any() and arr.flags.writeable
    arr[7] = [1, 2, 3]
    mm.flush()
    loaded = np.load(path)
    assert loaded.dtype == np.float32 and loaded.shape == (100, 3)
    assert loaded[7].tolist() == [1.0, 2.0, 3.0] and loaded.sum() == 6.0


def test_create_with_fill_and_raw_format(tmp_path):
    mm = mmap_array.create(tmp_path / "a.npy", 5, "int16", fill=7)
    mm.flush()
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.full(5, 7, np.int16))
    raw = mmap_array.create(tmp_path / "a.bin", (2, 2), "u1", format="raw", fill=9)
    assert raw.mode == "r+" and raw.format == "raw"
    raw.flush()
    assert (tmp_path / "a.bin").read_bytes() == b"\x09" * 4


def test_create_refuses_object_dtypes(tmp_path):
    with pytest.raises(TypeError, match="Python objects"):
        mmap_array.create(tmp_path / "a.npy", 3, object)
    assert os.listdir(tmp_path) == []


def test_open_w_plus_creates_npy_by_name(tmp_path):
    mm = mmap_array.open(tmp_path / "new.npy", "w+", dtype="i4", shape=(2, 2))
    assert mm.format == "npy" and mm.mode == "w+"
    raw = mmap_array.open(tmp_path / "new.bin", "w+", dtype="i4", shape=(2, 2))
    assert raw.format == "raw" and (tmp_path / "new.bin").stat().st_size == 16


def test_open_auto_needs_dtype_for_raw_files(tmp_path, monkeypatch):
    (tmp_path / "a.bin").write_bytes(np.arange(4.0).tobytes())
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError) as info:
        mmap_array.open("a.bin")
    assert str(info.value) == "'a.bin' is mapped as a raw file (it has no .npy header), which needs dtype, e.g. dtype='float64'"
    mm = mmap_array.open(tmp_path / "a.bin", dtype="f8")
    assert mm.format == "raw" and mm.get_array().tolist() == [0.0, 1.0, 2.0, 3.0]
    assert mm.filename == str(tmp_path / "a.bin") and mm.mode == "r"


def test_open_auto_maps_a_raw_file_without_failing_as_npy_first(tmp_path):
    # One open tells .npy from raw. Trying the .npy reader first raised a FormatError inside
    # open() for every raw file, then opened the file a second time (2.5x the time).
    path = tmp_path / "a.bin"
    path.write_bytes(bytes(64))
    raised = []

    def trace(frame, event, arg):
        if event == "exception":
            raised.append(arg[0])
        return trace

    sys.settrace(trace)
    try:
        mm = mmap_array.open(path, dtype="f8")
    finally:
        sys.settrace(None)
    assert mm.format == "raw" and mm.shape == (8,)
    assert raised == []


def test_open_auto_checks_a_raw_files_layout_as_memory_mapped_array_does(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(bytes(40))
    for kwargs in ({"dtype": "f8", "shape": 4}, {"dtype": "f8", "offset": 48}, {"dtype": "f8", "offset": 1}):
        with pytest.raises(ValueError) as auto:
            mmap_array.open(path, **kwargs)
        with pytest.raises(ValueError) as direct:
            mmap_array.MemoryMappedArray(path, **kwargs)
        assert str(auto.value) == str(direct.value) and str(path) in str(auto.value)
    mm = mmap_array.open(path, "r+", dtype="i4", shape=(2, 4), offset=8, order="F")
    assert mm.shape == (2, 4) and mm.mode == "r+" and mm.get_array().flags.f_contiguous
    mm.get_array()[1, 3] = 7
    assert np.fromfile(path, "<i4")[2 + 7] == 7


@pytest.mark.parametrize("content", [b"", b"\x93", b"\x93NUMP"], ids=["empty", "1-byte", "5-bytes"])
def test_open_auto_maps_files_shorter_than_the_magic_as_raw(tmp_path, content):
    # Found by test_properties: save(format="raw") of an empty array wrote a file that
    # open(path, dtype=...) refused as a truncated .npy file, while detect_format (the CLI,
    # info) calls it raw. Too short for the 6-byte magic, a file is not recognised as .npy.
    path = tmp_path / "short.bin"
    mmap_array.save(path, np.frombuffer(content, np.uint8), format="raw")
    mm = mmap_array.open(path, dtype="u1")
    assert mm.format == "raw" and mm.get_array().tobytes() == content
    with pytest.raises(ValueError, match="raw file .* needs dtype"):
        mmap_array.open(path)
    with pytest.raises(mmap_array.FormatError) as info:  # asked for .npy, it is a cut one
        mmap_array.open(path, format="npy")
    assert info.value.reason == "truncated"


def test_open_auto_still_reports_a_truncated_npy_file(tmp_path):
    path = tmp_path / "cut.npy"
    np.save(path, np.arange(4.0))
    path.write_bytes(path.read_bytes()[:9])  # the magic, the version, half the length
    with pytest.raises(mmap_array.FormatError) as info:
        mmap_array.open(path, dtype="f8")
    assert info.value.reason == "truncated"


def test_open_refuses_layout_arguments_for_npy_files(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(4.0))
    for kwargs in ({"dtype": "f8"}, {"shape": 4}, {"offset": 128}, {"order": "F"}):
        with pytest.raises(ValueError, match="header gives its layout"):
            mmap_array.open(tmp_path / "a.npy", **kwargs)
    # format="raw" maps the file's bytes, header included.
    raw = mmap_array.open(tmp_path / "a.npy", dtype="u1", format="raw")
    assert raw.get_array()[:6].tobytes() == b"\x93NUMPY"


def test_open_format_npy_on_a_raw_file_is_format_error(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"\0" * 64)
    with pytest.raises(mmap_array.FormatError) as info:
        mmap_array.open(tmp_path / "a.bin", format="npy")
    assert info.value.reason == "bad_magic" and info.value.filename == str(tmp_path / "a.bin")


@pytest.mark.parametrize("format", ["safetensors", "npz", "hdf5", ""])
def test_open_names_the_right_function_for_other_formats(tmp_path, format):
    with pytest.raises(ValueError, match="format must be one of"):
        mmap_array.open(tmp_path / "x", format=format)


def test_modes_apply_to_npy(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.zeros(4))
    shared = mmap_array.open(path, "r+")
    shared.get_array()[0] = 5.0
    shared.flush()
    private = mmap_array.open(path, "c")
    private.get_array()[1] = 6.0
    np.testing.assert_array_equal(np.load(path), [5.0, 0.0, 0.0, 0.0])
    assert mmap_array.open(path).offset == 128


@pytest.mark.parametrize("fields", [229, 233, 237])  # headers ending at byte 4032, 4096 and 4160
def test_headers_around_the_first_read_open_whole(tmp_path, fields):
    # The first read takes 4096 bytes; a header past them needs a second read, one that ends
    # exactly there needs none, and the data right after either is the array's.
    dtype = np.dtype([(f"f{i:03d}", "<u1") for i in range(fields)])
    data = np.zeros(3, dtype)
    data[f"f{fields - 1:03d}"] = [7, 8, 9]
    np.save(tmp_path / "edge.npy", data)
    mm = mmap_array.open(tmp_path / "edge.npy")
    assert mm.offset == (4032, 4096, 4160)[[229, 233, 237].index(fields)]
    np.testing.assert_array_equal(mm.get_array(), data)


def test_max_header_size_is_a_cap_the_caller_can_raise(tmp_path):
    dtype = np.dtype([(f"field_{i:04d}", "<f4") for i in range(600)])  # a ~12 kB header
    np.save(tmp_path / "wide.npy", np.zeros(2, dtype))
    with pytest.raises(mmap_array.FormatError) as info:
        mmap_array.open(tmp_path / "wide.npy")
    assert info.value.reason == "header_too_large"
    assert mmap_array.open(tmp_path / "wide.npy", max_header_size=100_000).shape == (2,)
