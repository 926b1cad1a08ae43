"""Other consumers: the buffer protocol and __array_interface__.

Arrays built through either keep the mapping alive after the handle is
closed and dropped, and are read-only for read-only mappings.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

import mmap_array
from conftest import mappings_of, write_bytes


class InterfaceOnly:
    """A consumer-side stand-in that offers nothing but a copied __array_interface__."""

    def __init__(self, interface: dict):
        self.__array_interface__ = interface


@pytest.fixture
def path(tmp_path):
    return write_bytes(tmp_path / "data.bin", np.arange(24, dtype="<f8"))


@pytest.mark.parametrize("mode", ["r", "r+", "c"])
def test_an_array_built_from_the_interface_shares_the_mapping(path, mode):
    mm = mmap_array.MemoryMappedArray(path, mode=mode, shape=(4, 6), order="F")
    array = np.asarray(InterfaceOnly(mm.__array_interface__))
    assert array.dtype == np.dtype("<f8") and array.shape == (4, 6)
    assert array.strides == mm.get_array().strides
    assert np.array_equal(array, mm.get_array())
    assert np.shares_memory(array, mm.get_array())
    assert array.flags.writeable == (mode != "r")


def test_the_interface_keeps_the_mapping_alive_after_close(path):
    mm = mmap_array.MemoryMappedArray(path)
    interface = mm.__array_interface__
    mm.close()
    del mm
    gc.collect()
    array = np.asarray(InterfaceOnly(interface))
    del interface
    gc.collect()
    assert mappings_of(path) == 1
    assert array[23] == 23.0
    del array
    gc.collect()
    assert mappings_of(path) == 0


def test_packed_record_dtypes_are_described_exactly(tmp_path):
    dtype = np.dtype([("a", "<i4"), ("b", "<f8", (2,)), ("c", "S3")])
    path = write_bytes(tmp_path / "rec.bin", np.zeros(3, dtype).tobytes())
    mm = mmap_array.MemoryMappedArray(path, dtype=dtype)
    array = np.asarray(InterfaceOnly(mm.__array_interface__))
    assert array.dtype == dtype


@pytest.mark.parametrize(
    "dtype",
    [
        # Fields out of offset order: the descr list cannot say "b before a".
        np.dtype({"names": ["a", "b"], "formats": ["<i4", "<i4"], "offsets": [4, 0]}),
        # Padding: NumPy reads the descr list's unnamed gap back as an extra field "f1".
        np.dtype({"names": ["a", "b"], "formats": ["<i4", "<i8"], "offsets": [0, 8], "itemsize": 16}),
    ],
    ids=["out-of-order", "padded"],
)
def test_records_the_interface_cannot_describe_have_none_and_asarray_stays_exact(tmp_path, dtype):
    path = write_bytes(tmp_path / "rec.bin", np.arange(3 * dtype.itemsize, dtype="u1").tobytes())
    mm = mmap_array.MemoryMappedArray(path, dtype=dtype)
    assert not hasattr(mm, "__array_interface__")
    with pytest.raises(AttributeError, match="rec.bin.*cannot be described exactly"):
        mm.__array_interface__
    array = np.asarray(mm)
    assert array.dtype == dtype and np.shares_memory(array, mm.get_array())


def test_datetimes_go_through_the_interface(tmp_path):
    path = write_bytes(tmp_path / "t.bin", np.arange(3, dtype="<i8").tobytes())
    mm = mmap_array.MemoryMappedArray(path, dtype="datetime64[s]")
    array = np.asarray(InterfaceOnly(mm.__array_interface__))
    assert array.dtype == np.dtype("datetime64[s]") and array[2] == np.datetime64(2, "s")


def test_a_closed_handle_has_no_interface_to_give(path):
    mm = mmap_array.MemoryMappedArray(path)
    mm.close()
    with pytest.raises(ValueError, match="data.bin.*closed"):
        mm.__array_interface__


def test_memoryview_and_asarray_share_the_mapping(path):
    mm = mmap_array.MemoryMappedArray(path, mode="r+", shape=(4, 6))
    view = memoryview(mm)
    assert view.shape == (4, 6) and view.format == "d" and not view.readonly
    view[1, 2] = -5.0
    assert mm[1, 2] == -5.0
    array = np.asarray(mm)
    assert np.shares_memory(array, mm.get_array()) and array[1, 2] == -5.0
    assert memoryview(mmap_array.MemoryMappedArray(path)).readonly
