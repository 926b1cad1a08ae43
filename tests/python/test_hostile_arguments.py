"""Arguments written to break things: no crash, no leak, a clear error naming the file."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import mmap_array
from conftest import mappings_of, run_python, write_bytes


@pytest.fixture
def path(tmp_path):
    return write_bytes(tmp_path / "x.bin", np.zeros(8))


def test_a_shape_list_emptied_by_an_items_index_does_not_crash(tmp_path):
    write_bytes(tmp_path / "x.bin", np.zeros(1))
    result = run_python(
        """
        import mmap_array
        shape = []
        class Evil:
            def __index__(self):
                shape.clear()
                return 1
        shape += [Evil(), 1]
        print(mmap_array.MemoryMappedArray("x.bin", shape=shape).shape)
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(1, 1)"  # the snapshot taken before __index__ ran


def test_keyboard_interrupt_from_index_is_not_reworded(path):
    class Interrupting:
        def __index__(self):
            raise KeyboardInterrupt

    for kwargs in ({"offset": Interrupting()}, {"shape": (Interrupting(),)}):
        with pytest.raises(KeyboardInterrupt):
            mmap_array.MemoryMappedArray(path, **kwargs)


@pytest.mark.parametrize("shape", [np.array([8]), np.array([2, 4]), np.int64(8), np.array(8), [np.int32(8)]])
def test_numpy_shapes_are_accepted_as_numpy_accepts_them(path, shape):
    assert mmap_array.MemoryMappedArray(path, shape=shape).size() == 8


@pytest.mark.parametrize("shape", [{1, 8}, {8: 0}, b"\x08", iter([8]), "8", 8.0])
def test_non_sequence_shapes_are_refused(path, shape):
    with pytest.raises(TypeError, match="shape must be None, an integer or a sequence"):
        mmap_array.MemoryMappedArray(path, shape=shape)


def test_none_arguments_get_the_documented_errors(path):
    assert mmap_array.MemoryMappedArray(path, dtype=None).dtype == np.float64  # NumPy's default
    for kwargs, error in (({"mode": None}, ValueError), ({"order": None}, ValueError), ({"offset": None}, TypeError)):
        with pytest.raises(error) as info:
            mmap_array.MemoryMappedArray(path, **kwargs)
        assert "incompatible function arguments" not in str(info.value)
    with pytest.raises(TypeError, match="os.PathLike"):
        mmap_array.MemoryMappedArray(None)
    with pytest.raises(TypeError, match="os.PathLike") as info:
        mmap_array.write_binary(None, [1.0])
    assert "_AtomicWriter" not in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [{"mode": "x"}, {"order": "Z"}, {"dtype": "O"}, {"dtype": "U0"}, {"dtype": "float65"}, {"shape": (-1,)},
     {"shape": "a"}, {"shape": (2**64,)}, {"offset": -1}, {"offset": 2**64}, {"offset": 1.5}, {"mode": "w+"}],
    ids=str,
)
def test_every_argument_error_names_the_file(path, kwargs):
    with pytest.raises((ValueError, TypeError)) as info:
        mmap_array.MemoryMappedArray(path, **kwargs)
    assert str(path) in str(info.value)


def test_layouts_numpy_cannot_hold_are_refused_before_a_file_is_created(tmp_path):
    target = tmp_path / "new.bin"
    target.write_bytes(b"keep")
    for kwargs in ({"shape": (0, 2**62, 2**62)}, {"shape": (1,) * 63 + (8,), "dtype": ("f8", (1, 1))}):
        with pytest.raises(ValueError, match="NumPy") as info:
            mmap_array.MemoryMappedArray(target, mode="w+", **kwargs)
        assert str(target) in str(info.value)
    assert target.read_bytes() == b"keep"


def test_a_reentrant_init_leaks_no_mapping(path):
    handle = mmap_array.MemoryMappedArray.__new__(mmap_array.MemoryMappedArray)

    class Reenters:
        def __fspath__(self):
            mmap_array.MemoryMappedArray.__init__(handle, str(path))
            return str(path)

    with pytest.raises(TypeError, match="re-entered"):
        handle.__init__(Reenters())
    assert mappings_of(path) == 1  # the inner call's mapping, owned by the handle
    del handle
    gc.collect()
    assert mappings_of(path) == 0


def test_with_on_a_closed_handle_raises(path):
    mm = mmap_array.MemoryMappedArray(path)
    mm.close()
    with pytest.raises(ValueError, match="closed"):
        with mm:
            pass


def test_the_arrays_base_has_a_repr(path):
    base = mmap_array.MemoryMappedArray(path).get_array().base
    assert repr(base) == f"<mmap_array._Mapping '{path}' 64 bytes at offset 0>"


def test_the_arrays_base_cannot_be_made_or_subclassed_from_python(path):
    # Only the library makes owners: one made from Python would own no mapping.
    owner_type = type(mmap_array.MemoryMappedArray(path).get_array().base)
    with pytest.raises(TypeError):
        owner_type()
    with pytest.raises(TypeError):
        type("Sub", (owner_type,), {})
