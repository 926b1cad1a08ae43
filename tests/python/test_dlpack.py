"""DLPack: torch.from_dlpack(mm), jax.numpy.from_dlpack(mm), np.from_dlpack(mm).

"r+" and "c" mappings export their own memory; read-only ones export a private
mapping of the same bytes flagged read-only (DLPack 1.0), so a consumer that
ignores the flag cannot crash the process by writing; an unversioned request
for a read-only mapping is refused with a clear error.
"""

from __future__ import annotations

import ctypes
import gc
import json

import numpy as np
import pytest
import torch

import mmap_array
from conftest import mappings_of, run_python, write_bytes
from sharing_workers import backed_by_file, mapped_ranges, permissions_at

READ_ONLY = 1  # DLPACK_FLAG_BITMASK_READ_ONLY


class DLPackVersion(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32)]


class DLManagedTensorVersioned(ctypes.Structure):
    # The head of the struct, up to the first field of its DLTensor (the data pointer).
    _fields_ = [
        ("version", DLPackVersion),
        ("manager_ctx", ctypes.c_void_p),
        ("deleter", ctypes.c_void_p),
        ("flags", ctypes.c_uint64),
        ("data", ctypes.c_void_p),
    ]


def capsule_name(capsule) -> str:
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    return get_name(capsule).decode()


def versioned_head(capsule) -> DLManagedTensorVersioned:
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    return DLManagedTensorVersioned.from_address(get_pointer(capsule, b"dltensor_versioned"))


def address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


@pytest.fixture
def path(tmp_path):
    return write_bytes(tmp_path / "data.bin", np.arange(12, dtype="<f4"))


def handle(path, mode="r"):
    return mmap_array.MemoryMappedArray(path, dtype="<f4", mode=mode, shape=(3, 4))


# --- the capsules ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["r+", "c"])
def test_writable_mappings_export_their_own_memory_unflagged(path, mode):
    mm = handle(path, mode)
    capsule = mm.__dlpack__(max_version=(1, 0))
    head = versioned_head(capsule)
    assert capsule_name(capsule) == "dltensor_versioned" and (head.version.major, head.version.minor) >= (1, 0)
    assert head.flags & READ_ONLY == 0
    assert head.data == address(mm.get_array())


def test_read_only_mappings_export_the_file_privately_mapped_and_flagged(path):
    mm = handle(path)
    before = len(mapped_ranges(path))
    capsule = mm.__dlpack__(max_version=(1, 2))
    head = versioned_head(capsule)
    assert head.flags & READ_ONLY
    # Not the handle's own memory, which has no write permission, but a private writable
    # mapping of the same file: a consumer that ignores the flag writes there harmlessly.
    assert permissions_at(path, address(mm.get_array()))[:2] == "r-"
    assert permissions_at(path, head.data) == "rw-p"
    assert len(mapped_ranges(path)) == before + 1


def test_a_consumer_ignoring_the_read_only_flag_cannot_crash_the_process(path):
    # The worst consumer: it writes through the capsule's raw pointer. Into the handle's own
    # mapping that would be SIGSEGV.
    result = run_python(
        f"""
        import ctypes, numpy as np, mmap_array
        get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
        get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        mm = mmap_array.MemoryMappedArray({str(path)!r}, dtype="<f4", shape=(3, 4))
        capsule = mm.__dlpack__(max_version=(1, 0))
        head = get_pointer(capsule, b"dltensor_versioned")
        data = ctypes.c_void_p.from_address(head + 32).value
        ctypes.memmove(data, np.float32(99).tobytes(), 4)
        print(float(mm[0, 0]), np.fromfile({str(path)!r}, dtype="<f4")[0])
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0.0", "0.0"]


@pytest.mark.parametrize("max_version", [None, (0, 8)], ids=["none", "0.8"])
def test_an_unversioned_export_of_a_read_only_mapping_is_refused(path, max_version):
    mm = handle(path)
    with pytest.raises(BufferError) as info:
        mm.__dlpack__(max_version=max_version)
    message = str(info.value)
    assert repr(str(path)) in message and "read-only" in message
    assert "mode 'c'" in message and "copy=True" in message


def test_an_unversioned_copy_of_a_read_only_mapping_is_allowed(path):
    capsule = handle(path).__dlpack__(copy=True)
    assert capsule_name(capsule) == "dltensor"


@pytest.mark.parametrize("mode", ["r+", "c"])
def test_unversioned_exports_of_writable_mappings_work(path, mode):
    assert capsule_name(handle(path, mode).__dlpack__()) == "dltensor"


@pytest.mark.parametrize("max_version", [1, (1,), ("1", "0"), [1, 0]], ids=repr)
def test_a_malformed_max_version_is_a_type_error_naming_the_file(path, max_version):
    with pytest.raises(TypeError, match="data.bin.*max_version must be None or a tuple"):
        handle(path).__dlpack__(max_version=max_version)


@pytest.mark.parametrize(
    "dtype, why", [([("a", "<i4"), ("b", "<f4")], "dtype"), (">f4", "byte order"), ("S4", "dtype")], ids=str
)
def test_dtypes_dlpack_lacks_are_buffer_errors_naming_the_file(path, dtype, why):
    mm = mmap_array.MemoryMappedArray(path, dtype=dtype, mode="r+")
    with pytest.raises(BufferError) as info:
        mm.__dlpack__(max_version=(1, 0))
    assert str(info.value).startswith(f"cannot export {str(path)!r} through DLPack: ")
    assert isinstance(info.value.__cause__, BufferError)  # NumPy's own refusal, kept
    assert why in str(info.value).lower()


def test_another_device_is_refused(path):
    with pytest.raises((BufferError, ValueError), match="data.bin"):
        handle(path, "r+").__dlpack__(dl_device=(2, 0))


def test_the_device_is_the_cpu(path):
    assert handle(path).__dlpack_device__() == (1, 0)


def test_a_closed_handle_refuses_to_export(path):
    mm = handle(path)
    mm.close()
    for export in (lambda: mm.__dlpack__(max_version=(1, 0)), mm.__dlpack_device__):
        with pytest.raises(ValueError, match="data.bin.*closed"):
            export()


def test_a_read_only_export_of_a_replaced_file_is_refused(path):
    mm = handle(path)
    mmap_array.write_binary(path, np.zeros(6))  # same size, new inode
    with pytest.raises(mmap_array.FileChangedError, match=r"cannot export through DLPack: the path no longer names the file.*: '.*data.bin'$"):
        mm.__dlpack__(max_version=(1, 0))
    # A copy needs no second mapping: it still works, with the data the handle maps.
    assert np.array_equal(np.from_dlpack(mm, copy=True), np.arange(12, dtype="<f4").reshape(3, 4))


# --- NumPy as the consumer -------------------------------------------------------------


def test_numpy_gets_a_read_only_array_of_a_read_only_mapping(path):
    array = np.from_dlpack(handle(path))
    assert not array.flags.writeable
    assert np.array_equal(array, np.arange(12, dtype="<f4").reshape(3, 4))
    assert backed_by_file(array, str(path))


def test_numpy_shares_an_r_plus_mapping(path):
    mm = handle(path, "r+")
    array = np.from_dlpack(mm)
    assert array.flags.writeable and np.shares_memory(array, mm.get_array())


# --- torch -----------------------------------------------------------------------------


def test_torch_writes_to_an_r_plus_mapping_reach_the_file(path):
    mm = handle(path, "r+")
    tensor = torch.from_dlpack(mm)
    assert tensor.dtype == torch.float32 and tuple(tensor.shape) == (3, 4)
    assert tensor.data_ptr() == address(mm.get_array())
    tensor[1, 2] = -7.0
    mm.flush()
    assert np.fromfile(path, dtype="<f4")[6] == -7.0


def test_torch_reads_a_read_only_mapping_without_a_copy(path):
    mm = handle(path)
    tensor = torch.from_dlpack(mm)
    assert torch.equal(tensor, torch.arange(12, dtype=torch.float32).reshape(3, 4))
    assert any(start <= tensor.data_ptr() < end for start, end in mapped_ranges(path))


def test_torch_writing_to_a_read_only_mapping_neither_crashes_nor_changes_the_file(path):
    # torch ignores DLPack's read-only flag: its tensor is writable. The write lands in the
    # private mapping exported for it (checked first, so a regression fails here rather
    # than killing the test run with SIGSEGV).
    mm = handle(path)
    tensor = torch.from_dlpack(mm)
    assert permissions_at(path, tensor.data_ptr()) == "rw-p"
    tensor[0, 0] = 99.0
    assert float(tensor[0, 0]) == 99.0
    assert mm[0, 0] == 0.0 and np.fromfile(path, dtype="<f4")[0] == 0.0


def test_a_torch_tensor_keeps_the_mapping_alive(path):
    mm = handle(path, "r+")
    tensor = torch.from_dlpack(mm)
    mm.close()
    del mm
    gc.collect()
    assert mappings_of(path) == 1
    assert float(tensor.sum()) == 66.0
    del tensor
    gc.collect()
    assert mappings_of(path) == 0


def test_torch_copy_on_write_tensors_stay_private(path):
    mm = handle(path, "c")
    tensor = torch.from_dlpack(mm)
    tensor[0, 1] = 5.0
    assert mm[0, 1] == 5.0
    assert np.fromfile(path, dtype="<f4")[1] == 1.0


# --- JAX -------------------------------------------------------------------------------
# In a child process: JAX starts threads once it runs, and forking the test process after
# that (the fork tests of test_multiprocessing) would risk deadlocks in the forked workers.

JAX_CHECKS = """
import json, numpy as np, jax.numpy as jnp, mmap_array

class Spy:  # passes DLPack calls on to a handle, recording what JAX asks for
    def __init__(self, target):
        self.target, self.requests = target, []
    def __dlpack_device__(self):
        return self.target.__dlpack_device__()
    def __dlpack__(self, **kwargs):
        self.requests.append({k: v for k, v in kwargs.items() if k == "max_version"})
        return self.target.__dlpack__(**kwargs)

facts = {}
for mode in ("r+", "c"):
    mm = mmap_array.MemoryMappedArray(PATH, dtype="<f4", mode=mode, shape=(3, 4))
    array = jnp.from_dlpack(mm)
    facts[mode] = [array.unsafe_buffer_pointer() == mm.get_array().__array_interface__["data"][0],
                   float(array.sum())]
spy = Spy(mmap_array.MemoryMappedArray(PATH, dtype="<f4", shape=(3, 4)))
try:
    facts["r"] = {"sum": float(jnp.from_dlpack(spy).sum())}
except BufferError as error:
    facts["r"] = {"error": str(error)}
facts["r"]["requests"] = spy.requests
print(json.dumps(facts))
"""


def test_jax_shares_writable_mappings_and_gets_read_only_ones_only_when_versioned(path):
    result = run_python(f"PATH = {str(path)!r}\n" + JAX_CHECKS)
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["r+"] == [True, 66.0] and facts["c"] == [True, 66.0]  # no copy
    read_only = facts["r"]
    versioned = [tuple(r["max_version"]) >= (1, 0) for r in read_only["requests"] if r.get("max_version")]
    if "error" in read_only:
        # Refused only because JAX asked for no versioned capsule, and saying what to do.
        assert not any(versioned)
        assert "read-only" in read_only["error"] and "mode 'c'" in read_only["error"]
    else:
        assert versioned and versioned[-1] and read_only["sum"] == 66.0
