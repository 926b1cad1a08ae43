"""The seed tutorial's example, word for word, and one regression test per defect of its code."""

from __future__ import annotations

import errno
import os
import stat

import numpy as np
import pytest

import mmap_array
from conftest import run_python, unprivileged_prefix, write_bytes

# The Python block under "Build & Test" in the seed document, unchanged.
SEED_EXAMPLE = """
import numpy as np
import time
import mmap_array

# Write test data
N = 10_000_000
data = np.random.rand(N)
mmap_array.write_binary('test_data.bin', data)

# Open via mmap (near-instant)
t0 = time.perf_counter()
mm = mmap_array.MemoryMappedArray('test_data.bin')
arr = mm.get_array()
print(f'mmap open+get: {(time.perf_counter()-t0)*1000:.2f}ms')
print(f'size: {mm.size():,} elements')

# Use like a normal NumPy array
print('mean:', np.mean(arr))  # should be ~0.5
print('max: ', np.max(arr))

# Verify data matches
np.testing.assert_allclose(arr, data)
print('data matches original: OK')
"""


def test_seed_example_runs_word_for_word(tmp_path):
    result = run_python(SEED_EXAMPLE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("mmap open+get: ") and lines[0].endswith("ms")
    assert lines[1] == "size: 10,000,000 elements"
    assert 0.49 < float(lines[2].split()[1]) < 0.51
    assert lines[-1] == "data matches original: OK"
    assert (tmp_path / "test_data.bin").stat().st_size == 80_000_000


def test_seed_api_keeps_its_meaning(floats):
    path, data = floats
    mm = mmap_array.MemoryMappedArray(str(path))
    arr = mm.get_array()
    assert mm.size() == 1000
    assert arr.dtype == np.float64 and arr.shape == (1000,)
    assert not arr.flags.writeable
    assert not arr.flags.owndata  # a view of the mapping, not a copy
    np.testing.assert_array_equal(arr, data)


# Defect: writing into an array of a read-only mapping segfaulted.
def test_writing_a_read_only_array_raises_instead_of_crashing(tmp_path):
    write_bytes(tmp_path / "ro.bin", np.arange(8.0))
    result = run_python(
        """
        import mmap_array
        arr = mmap_array.MemoryMappedArray("ro.bin").get_array()
        for attempt in (lambda: arr.__setitem__(0, 1.0),
                        lambda: arr.fill(0.0),
                        lambda: arr.__iadd__(1.0),
                        lambda: setattr(arr.flags, "writeable", True)):
            try:
                attempt()
            except ValueError as error:
                print("ValueError:", error)
            else:
                print("no error")
        print("first:", arr[0])
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == ["ValueError"] * 4
    assert "read-only" in lines[0]
    assert lines[4] == "first: 0.0"


# Defect: a size that is not a multiple of 8 silently lost its tail bytes.
def test_size_not_a_multiple_of_the_itemsize_raises_naming_file_size_and_itemsize(tmp_path):
    path = write_bytes(tmp_path / "odd.bin", b"\0" * 13)
    with pytest.raises(ValueError) as info:
        mmap_array.MemoryMappedArray(str(path))
    message = str(info.value)
    assert str(path) in message and "13" in message and "itemsize 8" in message


# Defect: missing, directory and unreadable paths all gave RuntimeError without errno.
def test_missing_file_is_file_not_found_error(tmp_path):
    path = tmp_path / "missing.bin"
    with pytest.raises(FileNotFoundError) as info:
        mmap_array.MemoryMappedArray(str(path))
    assert info.value.errno == errno.ENOENT
    assert info.value.filename == str(path)


def test_directory_is_is_a_directory_error(tmp_path):
    with pytest.raises(IsADirectoryError) as info:
        mmap_array.MemoryMappedArray(str(tmp_path))
    assert info.value.errno == errno.EISDIR
    assert info.value.filename == str(tmp_path)


def test_unreadable_file_is_permission_error(tmp_path):
    tmp_path.chmod(0o755)  # the child may not be able to traverse pytest's 0700 directory
    path = write_bytes(tmp_path / "secret.bin", np.arange(4.0))
    path.chmod(0)
    result = run_python(
        f"""
        import mmap_array
        try:
            mmap_array.MemoryMappedArray({str(path)!r})
        except PermissionError as error:
            print(type(error).__name__, error.errno, error.filename)
        """,
        prefix=unprivileged_prefix(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["PermissionError", str(errno.EACCES), str(path)]


# Defect: each mapping kept its descriptor, so ~250 mappings exhausted a limit of 256.
def test_ten_thousand_live_mappings_under_a_256_descriptor_limit(tmp_path):
    write_bytes(tmp_path / "small.bin", np.arange(16.0))
    result = run_python(
        """
        import os, resource
        import mmap_array
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
        before = len(os.listdir("/proc/self/fd"))
        handles = [mmap_array.MemoryMappedArray("small.bin") for _ in range(10_000)]
        arrays = [h.get_array() for h in handles]
        assert len(os.listdir("/proc/self/fd")) == before
        assert sum(float(a[15]) for a in arrays) == 150_000.0
        print("ok", len(arrays))
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ok", "10000"]


# Defect: write_binary of more than 2 GiB stopped after 2,147,479,552 bytes and left that file.
def test_write_binary_over_two_gib_writes_every_byte(tmp_path):
    count = 2**28 + 1024  # 2 GiB + 8 KiB of float64
    data = np.arange(count, dtype=np.float64)
    path = tmp_path / "big.bin"
    mmap_array.write_binary(str(path), data)
    assert path.stat().st_size == count * 8
    arr = mmap_array.MemoryMappedArray(str(path)).get_array()
    assert np.array_equal(arr, data)
    del arr


def test_write_binary_failing_midway_leaves_the_old_file_and_no_temporary(tmp_path):
    old = np.arange(10.0)
    write_bytes(tmp_path / "target.bin", old)
    result = run_python(
        """
        import resource, signal
        import numpy as np, mmap_array
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # turn the size limit into EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, resource.RLIM_INFINITY))
        try:
            mmap_array.write_binary("target.bin", np.ones(100_000))
        except OSError as error:
            print(type(error).__name__, error.errno, error.filename)
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["OSError", str(errno.EFBIG), "target.bin"]
    assert (tmp_path / "target.bin").read_bytes() == old.tobytes()
    assert sorted(os.listdir(tmp_path)) == ["target.bin"]


# Defect: write_binary cast anything to float64 (complex silently lost its imaginary part).
@pytest.mark.parametrize(
    "values",
    [
        np.array([1 + 2j, 3 - 4j]),
        np.array(["1.5", "2"]),
        np.array([1.0, None], dtype=object),
        np.zeros(2, dtype=[("a", "f8")]),
        np.array([1.0], dtype=np.longdouble) if np.dtype(np.longdouble).itemsize > 8 else np.array([1 + 0j]),
    ],
    ids=["complex", "str", "object", "structured", "longdouble"],
)
def test_write_binary_refuses_casts_that_lose_information(tmp_path, values):
    path = tmp_path / "out.bin"
    with pytest.raises(TypeError, match="float64"):
        mmap_array.write_binary(str(path), values)
    assert not path.exists()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "values",
    [[1, 2, 3], np.arange(3, dtype=np.int32), np.array([True, False]), np.arange(3, dtype=np.float32)],
    ids=["list", "int32", "bool", "float32"],
)
def test_write_binary_accepts_safe_casts(tmp_path, values):
    path = tmp_path / "out.bin"
    mmap_array.write_binary(str(path), values)
    expected = np.asarray(values).astype(np.float64)
    assert path.read_bytes() == expected.tobytes()
    assert stat.S_ISREG(path.stat().st_mode)
