"""Shape, offset and order: what part of the file the array covers, and how."""

from __future__ import annotations

import os

import numpy as np
import pytest

import mmap_array
from conftest import mappings_of, write_bytes

BYTES = np.arange(256, dtype=np.uint8).tobytes() * 64  # 16 KiB: four pages, distinct neighbours


@pytest.fixture
def pattern(tmp_path):
    return write_bytes(tmp_path / "pattern.bin", BYTES)


@pytest.mark.parametrize("offset", [0, 1, 3, 7, 4095, 4096, 4097, 8191, len(BYTES) - 1])
def test_any_byte_offset_works(pattern, offset):
    mm = mmap_array.MemoryMappedArray(pattern, dtype="u1", offset=offset)
    arr = mm.get_array()
    assert arr.tobytes() == BYTES[offset:]
    assert mm.offset == offset and mm.nbytes == len(BYTES) - offset


def test_unaligned_offsets_give_unaligned_but_correct_arrays(tmp_path):
    path = write_bytes(tmp_path / "odd.bin", BYTES[:401])
    arr = mmap_array.MemoryMappedArray(path, dtype="<u4", offset=1, shape=100).get_array()
    assert not arr.flags.aligned
    assert arr.tolist() == np.frombuffer(BYTES[1:401], dtype="<u4").tolist()


def test_offset_at_the_end_gives_an_empty_array(pattern):
    mm = mmap_array.MemoryMappedArray(pattern, dtype="f8", offset=len(BYTES))
    assert mm.shape == (0,) and mm.size() == 0 and mm.get_array().size == 0


@pytest.mark.parametrize("offset", [len(BYTES) + 1, 2**63 - 1])
def test_offset_past_the_end_raises_value_error_with_the_numbers(pattern, offset):
    with pytest.raises(ValueError, match=f"offset {offset} is past the end of the file \\(size {len(BYTES)}\\)"):
        mmap_array.MemoryMappedArray(pattern, dtype="u1", offset=offset)


def test_negative_offset_raises_value_error(pattern):
    with pytest.raises(ValueError, match="offset must be non-negative, got -1"):
        mmap_array.MemoryMappedArray(pattern, dtype="u1", offset=-1)


def test_huge_offset_raises_value_error(pattern):
    with pytest.raises(ValueError, match="out of range"):
        mmap_array.MemoryMappedArray(pattern, dtype="u1", offset=2**64)


def test_offset_must_be_an_integer(pattern):
    with pytest.raises(TypeError, match="offset must be an integer"):
        mmap_array.MemoryMappedArray(pattern, dtype="u1", offset=1.5)
    assert mmap_array.MemoryMappedArray(pattern, dtype="u1", offset=np.int64(5)).offset == 5


def test_shape_none_is_one_dimensional_over_the_rest_of_the_file(pattern):
    mm = mmap_array.MemoryMappedArray(pattern, dtype="<u2", offset=2)
    assert mm.shape == ((len(BYTES) - 2) // 2,) and mm.ndim == 1


@pytest.mark.parametrize("shape", [(16384,), (128, 128), (16, 32, 32), (2, 2, 2, 2, 1024)])
def test_explicit_shape_that_covers_the_file_exactly(pattern, shape):
    arr = mmap_array.MemoryMappedArray(pattern, dtype="u1", shape=shape).get_array()
    assert arr.shape == shape
    assert arr.tobytes() == BYTES


def test_integer_shape_means_one_dimension(pattern):
    assert mmap_array.MemoryMappedArray(pattern, dtype="u1", shape=16384).shape == (16384,)
    assert mmap_array.MemoryMappedArray(pattern, dtype="u1", shape=[16384]).shape == (16384,)


@pytest.mark.parametrize("shape", [(16383,), (16385,), (100, 100), (0,)])
def test_shape_that_does_not_cover_the_file_exactly_raises_with_the_numbers(pattern, shape):
    needed = int(np.prod(shape))
    with pytest.raises(ValueError) as info:
        mmap_array.MemoryMappedArray(pattern, dtype="u1", shape=shape)
    message = str(info.value)
    assert str(pattern) in message
    assert f"needs {needed} bytes" in message and "file has 16384" in message


def test_shape_with_offset_must_cover_the_rest_exactly(pattern):
    mm = mmap_array.MemoryMappedArray(pattern, dtype="<u2", offset=4, shape=(2, 4095))
    assert mm.get_array().tobytes() == BYTES[4:]
    with pytest.raises(ValueError, match="needs 16376 bytes after offset 4, but the file has 16380"):
        mmap_array.MemoryMappedArray(pattern, dtype="<u2", offset=4, shape=(2, 4094))


@pytest.mark.parametrize(
    ("shape", "error", "match"),
    [
        ((-1,), ValueError, "negative dimensions"),
        ((4, -2), ValueError, "negative dimensions"),
        ((2.0,), TypeError, "must be an integer"),
        ("abc", TypeError, "shape must be None, an integer or a sequence"),
        (object(), TypeError, "shape must be None, an integer or a sequence"),
        ((1,) * 65, ValueError, "dimensions"),
        ((2**40, 2**40), ValueError, "too big for NumPy"),
        ((2**32, 2**32, 2**32), ValueError, "too big for NumPy"),
        ((0, 2**62, 2**62), ValueError, "too big for NumPy"),
    ],
)
def test_bad_shapes_raise_clear_errors(pattern, shape, error, match):
    with pytest.raises(error, match=match):
        mmap_array.MemoryMappedArray(pattern, dtype="u1", shape=shape)


def test_fortran_order_reads_the_file_column_major(pattern):
    mm = mmap_array.MemoryMappedArray(pattern, dtype="u1", shape=(128, 128), order="F")
    arr = mm.get_array()
    assert mm.order == "F" and arr.flags.f_contiguous and not arr.flags.c_contiguous
    expected = np.frombuffer(BYTES, dtype=np.uint8).reshape((128, 128), order="F")
    np.testing.assert_array_equal(arr, expected)


@pytest.mark.parametrize("order", ["c", "f", "A", "K", ""])
def test_other_orders_raise_value_error(pattern, order):
    with pytest.raises(ValueError, match="order must be 'C' or 'F'"):
        mmap_array.MemoryMappedArray(pattern, dtype="u1", order=order)


def test_empty_file_gives_an_empty_array_without_mapping(tmp_path):
    path = write_bytes(tmp_path / "empty.bin", b"")
    for mode in ("r", "r+", "c"):
        mm = mmap_array.MemoryMappedArray(path, mode=mode)
        arr = mm.get_array()
        assert arr.shape == (0,) and arr.dtype == np.float64 and mm.size() == 0 and mm.nbytes == 0
        assert arr.sum() == 0.0
        assert mappings_of(path) == 0
        mm.flush()


def test_zero_size_shapes_on_an_empty_file(tmp_path):
    path = write_bytes(tmp_path / "empty.bin", b"")
    assert mmap_array.MemoryMappedArray(path, shape=(0, 7)).get_array().shape == (0, 7)
    assert mmap_array.MemoryMappedArray(path, shape=(3, 0), order="F").get_array().shape == (3, 0)


def test_zero_dimensional_shape_maps_one_item(tmp_path):
    path = write_bytes(tmp_path / "scalar.bin", np.array(2.5))
    arr = mmap_array.MemoryMappedArray(path, shape=()).get_array()
    assert arr.shape == () and arr[()] == 2.5
    assert mmap_array.MemoryMappedArray(path, shape=()).size() == 1


def test_files_and_offsets_beyond_4_gib(tmp_path):
    # A sparse file: 5 GiB of address space, a few pages of disk.
    path = tmp_path / "sparse.bin"
    size = 5 * 2**30
    marker_at = 2**32 + 12_345
    with open(path, "wb") as f:
        f.truncate(size)
        f.seek(marker_at)
        f.write(np.array([1.5, -2.5, 3.5]).tobytes())
    whole = mmap_array.MemoryMappedArray(path, dtype="u1")
    assert whole.size() == size and whole.nbytes == size
    assert whole.get_array()[marker_at + 7] == np.array([1.5]).view(np.uint8)[7]

    view = mmap_array.MemoryMappedArray(path, dtype="u1", offset=marker_at)
    assert view.offset == marker_at and view.nbytes == size - marker_at
    assert view.get_array()[:24].view("f8").tolist() == [1.5, -2.5, 3.5]
    assert os.stat(path).st_blocks * 512 < 2**20  # still sparse: nothing was read or written
