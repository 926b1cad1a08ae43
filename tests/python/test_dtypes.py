"""Every fixed-size dtype without Python objects maps bit for bit; the rest is refused."""

from __future__ import annotations

import numpy as np
import pytest

import mmap_array
from conftest import write_bytes

# Fields stored in the opposite order of their names.
OUT_OF_ORDER_RECORD = np.dtype({"names": ["lo", "hi"], "formats": ["<u2", "<u2"], "offsets": [2, 0], "itemsize": 6})

DTYPES = [
    "b1", "i1", "u1", "<i2", ">i2", "<u2", "<i4", ">i4", "<u4", "<i8", ">i8", "<u8", ">u8",
    "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "<c8", ">c8", "<c16", ">c16",
    "S1", "S7", "<U3", ">U3", "V5", "<M8[ns]", ">M8[D]", "<m8[s]",
    np.dtype([("a", "<i4"), ("b", ">f8")]),
    np.dtype([("a", "u1"), ("b", "<f8")], align=True),
    np.dtype([("xy", "<f4", (2,)), ("name", "S3"), ("inner", [("p", ">i2"), ("q", "?")])]),
    OUT_OF_ORDER_RECORD,
]

if np.dtype(np.longdouble).itemsize > 8:
    DTYPES.append(np.dtype(np.longdouble))


def _sample(dtype: np.dtype, count: int) -> np.ndarray:
    """``count`` items of ``dtype`` with varied bit patterns (including non-canonical ones)."""
    raw = np.random.default_rng(3).integers(0, 256, size=count * dtype.itemsize, dtype=np.uint8)
    return raw.view(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_every_fixed_size_dtype_maps_bit_for_bit(tmp_path, dtype):
    dtype = np.dtype(dtype)
    expected = _sample(dtype, 24)
    path = write_bytes(tmp_path / "data.bin", expected.tobytes())
    mm = mmap_array.MemoryMappedArray(path, dtype=dtype)
    arr = mm.get_array()
    assert mm.dtype == dtype and arr.dtype == dtype
    assert arr.dtype.str == dtype.str  # byte order kept, never reinterpreted
    assert arr.shape == (24,) and mm.size() == 24
    assert arr.tobytes() == expected.tobytes()


# The buffer protocol's format strings cannot express these dtypes exactly.
NO_EXACT_BUFFER_FORMAT = [np.dtype(d) for d in ("V5", "<M8[ns]", ">M8[D]", "<m8[s]")] + [OUT_OF_ORDER_RECORD]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_np_asarray_keeps_the_dtype_and_shares_memory(tmp_path, dtype):
    dtype = np.dtype(dtype)
    path = write_bytes(tmp_path / "data.bin", _sample(dtype, 6).tobytes())
    mm = mmap_array.MemoryMappedArray(path, dtype=dtype, mode="r+")
    as_array = np.asarray(mm)
    assert as_array.dtype == dtype and as_array.dtype.str == dtype.str
    assert np.shares_memory(as_array, mm.get_array())
    as_array.view(np.uint8)[: dtype.itemsize] = 0xA5  # a write through it reaches the mapping
    assert set(mm.get_array().view(np.uint8)[: dtype.itemsize]) == {0xA5}


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_memoryview_is_exact_or_refused_with_a_reason(tmp_path, dtype):
    dtype = np.dtype(dtype)
    path = write_bytes(tmp_path / "data.bin", _sample(dtype, 6).tobytes())
    mm = mmap_array.MemoryMappedArray(path, dtype=dtype, mode="r+")
    if any(dtype == refused for refused in NO_EXACT_BUFFER_FORMAT):
        with pytest.raises(BufferError, match="get_array"):
            memoryview(mm)
        return
    view = memoryview(mm)
    assert view.nbytes == 6 * dtype.itemsize and not view.readonly and view.shape == (6,)
    assert np.asarray(view).dtype == dtype


def test_dtype_accepts_anything_numpy_accepts(floats):
    path, data = floats
    for spelling in (float, np.float64, "float64", "f8", "<f8", np.dtype("float64")):
        np.testing.assert_array_equal(mmap_array.MemoryMappedArray(path, dtype=spelling).get_array(), data)


def test_subarray_items_stay_contiguous_in_fortran_order(tmp_path):
    # Each 2-float item is contiguous in the file; the items are in column-major order.
    path = write_bytes(tmp_path / "sub.bin", np.arange(24.0))
    arr = mmap_array.MemoryMappedArray(path, dtype=("f8", (2,)), shape=(3, 4), order="F").get_array()
    records = np.frombuffer(path.read_bytes(), dtype=[("v", "f8", (2,))]).reshape((3, 4), order="F")
    assert arr.shape == (3, 4, 2)
    np.testing.assert_array_equal(arr, records["v"])
    assert arr[1, 0].tolist() == [2.0, 3.0] and arr[0, 1].tolist() == [6.0, 7.0]


def test_subarray_dtype_adds_its_dimensions_to_the_shape(floats):
    path, data = floats
    mm = mmap_array.MemoryMappedArray(path, dtype=("f8", (2, 5)))
    assert mm.shape == (100, 2, 5) and mm.dtype == np.float64 and mm.ndim == 3
    np.testing.assert_array_equal(mm.get_array(), data.reshape(100, 2, 5))
    explicit = mmap_array.MemoryMappedArray(path, dtype=("f8", (10,)), shape=(10, 10))
    assert explicit.shape == (10, 10, 10)


@pytest.mark.parametrize(
    "dtype",
    [object, np.dtype([("a", "f8"), ("b", object)]), np.dtype((object, (2,))), np.dtypes.StringDType()],
    ids=["object", "record-with-object", "subarray-of-object", "StringDType"],
)
def test_dtypes_holding_python_objects_raise_type_error(floats, dtype):
    with pytest.raises(TypeError, match="Python objects"):
        mmap_array.MemoryMappedArray(floats[0], dtype=dtype)


@pytest.mark.parametrize(
    "dtype", ["S", "U", "V", np.dtype([]), np.dtype(("f8", (0,)))], ids=["S", "U", "V", "empty-record", "empty-subarray"]
)
def test_dtypes_of_zero_byte_items_raise_type_error_naming_the_file(floats, dtype):
    with pytest.raises(TypeError, match="items of 0 bytes") as info:
        mmap_array.MemoryMappedArray(floats[0], dtype=dtype)
    assert str(floats[0]) in str(info.value)


def test_nested_subarray_dtypes_unwind_completely(tmp_path):
    path = write_bytes(tmp_path / "b.bin", np.arange(64, dtype=np.uint8).tobytes())
    mm = mmap_array.MemoryMappedArray(path, dtype=np.dtype((np.dtype(("u1", (2,))), (4,))))
    arr = mm.get_array()
    assert mm.shape == arr.shape == (8, 4, 2) and mm.dtype == arr.dtype == np.uint8 and mm.size() == 64
    np.testing.assert_array_equal(arr, np.arange(64, dtype=np.uint8).reshape(8, 4, 2))


def test_unknown_dtype_raises_type_error(floats):
    with pytest.raises(TypeError):
        mmap_array.MemoryMappedArray(floats[0], dtype="float65")
