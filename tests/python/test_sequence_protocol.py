"""len(mm), iter(mm), mm[key] and mm[key] = value behave as on the mapped ndarray.

Basic indices give views of the mapping (which keep it alive), advanced
indices give copies, exactly as NumPy decides.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

import mmap_array
from conftest import mappings_of, write_bytes


@pytest.fixture
def grid(tmp_path):
    data = np.arange(60, dtype=np.float64).reshape(12, 5)
    return write_bytes(tmp_path / "grid.bin", data), data


def open_grid(grid, mode="r", order="C"):
    path, data = grid
    return mmap_array.MemoryMappedArray(path, mode=mode, shape=data.shape, order=order)


def test_len_is_the_first_dimension_and_outlives_close(grid):
    mm = open_grid(grid)
    assert len(mm) == 12
    mm.close()
    assert len(mm) == 12  # like shape, it needs no mapping


def test_handles_stay_true_whatever_their_length(tmp_path):
    empty = write_bytes(tmp_path / "empty.bin", b"")
    scalar = tmp_path / "scalar.npy"
    np.save(scalar, np.float64(1.0))
    for mm in (mmap_array.MemoryMappedArray(empty), mmap_array.open(scalar)):
        assert bool(mm) is True


def test_zero_dimensional_arrays_have_no_len_or_items(tmp_path):
    path = tmp_path / "scalar.npy"
    np.save(path, np.float64(3.5))
    mm = mmap_array.open(path)
    assert mm[()] == 3.5
    with pytest.raises(TypeError, match=r"len\(\) of .*scalar.npy.*no dimensions"):
        len(mm)
    with pytest.raises(TypeError, match=r"iteration over .*scalar.npy"):
        iter(mm)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize(
    "key",
    [np.s_[3], np.s_[-1], np.s_[2:9:3], np.s_[::-1], np.s_[1:4, 2], np.s_[..., 1], np.s_[None, 2:4], np.s_[:, ::2]],
    ids=repr,
)
def test_basic_indices_give_views_of_the_mapping(grid, key, order):
    path, data = grid
    mm = open_grid(grid, order=order)
    expected = np.fromfile(path).reshape(data.shape, order=order)[key]
    view = mm[key]
    assert isinstance(view, np.ndarray)
    assert np.array_equal(view, expected)
    assert np.shares_memory(view, mm.get_array())
    assert not view.flags.writeable


def test_an_integer_per_dimension_gives_a_scalar(grid):
    mm = open_grid(grid)
    value = mm[2, 3]
    assert isinstance(value, np.float64) and value == 13.0


@pytest.mark.parametrize(
    "key", [[0, 5, 5], np.array([True, False] * 6), (np.array([1, 2]), np.array([0, 4])), np.s_[[1, 3], ::2]], ids=repr
)
def test_advanced_indices_give_copies(grid, key):
    _, data = grid
    mm = open_grid(grid)
    result = mm[key]
    assert np.array_equal(result, data[key])
    assert not np.shares_memory(result, mm.get_array())


def test_views_keep_the_mapping_alive_after_close(grid):
    path, data = grid
    mm = open_grid(grid)
    row = mm[4]
    mm.close()
    del mm
    gc.collect()
    assert mappings_of(path) == 1
    assert np.array_equal(row, data[4])
    del row
    gc.collect()
    assert mappings_of(path) == 0


def test_bad_indices_are_numpys_index_errors(grid):
    mm = open_grid(grid)
    with pytest.raises(IndexError):
        mm[12]
    with pytest.raises(IndexError):
        mm[0, 0, 0]
    with pytest.raises(IndexError):
        mm["x"]


def test_iteration_yields_rows(grid):
    _, data = grid
    rows = list(open_grid(grid))
    assert len(rows) == 12 and all(np.array_equal(r, d) for r, d in zip(rows, data))


def test_assignment_reaches_the_file_for_r_plus(grid):
    path, _ = grid
    mm = open_grid(grid, mode="r+")
    mm[1] = -1.0
    mm[2:4, 0] = [7, 8]
    mm[mm.get_array() > 58] = 0  # a boolean mask, as in NumPy
    mm.flush()
    on_disk = np.fromfile(path).reshape(12, 5)
    assert (on_disk[1] == -1).all() and list(on_disk[2:4, 0]) == [7, 8] and on_disk[11, 4] == 0


def test_assignment_stays_private_for_copy_on_write(grid):
    path, data = grid
    mm = open_grid(grid, mode="c")
    mm[0] = 100.0
    assert (mm[0] == 100).all()
    assert np.array_equal(np.fromfile(path).reshape(12, 5), data)


def test_assignment_to_a_read_only_mapping_names_the_file_and_the_modes(grid):
    path, data = grid
    mm = open_grid(grid)
    with pytest.raises(ValueError, match="mapped read-only") as info:
        mm[0] = 1.0
    assert repr(str(path)) in str(info.value) and "'r+'" in str(info.value) and "'c'" in str(info.value)
    assert np.array_equal(mm.get_array(), data)


def test_assignment_errors_are_numpys(grid):
    mm = open_grid(grid, mode="r+")
    with pytest.raises(ValueError):
        mm[0] = [1, 2]  # cannot broadcast
    with pytest.raises(IndexError):
        mm[99] = 1


@pytest.mark.parametrize(
    "use", [lambda mm: mm[0], lambda mm: mm.__setitem__(0, 1.0), lambda mm: iter(mm)], ids=["get", "set", "iter"]
)
def test_a_closed_handle_refuses_indexing_naming_the_file(grid, use):
    mm = open_grid(grid, mode="r+")
    mm.close()
    with pytest.raises(ValueError, match="grid.bin.*closed"):
        use(mm)
