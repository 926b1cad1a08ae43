"""A full disk is an OSError(ENOSPC) at the call that needs the space, never a bus error later."""

from __future__ import annotations

import errno

from conftest import run_on_small_filesystem


def test_write_mode_on_a_full_disk_is_enospc_and_keeps_the_old_file():
    result = run_on_small_filesystem(
        """
        import os, sys, numpy as np, mmap_array
        path = os.path.join(sys.argv[1], "data.bin")
        mmap_array.write_binary(path, np.arange(1000.0))
        try:
            mmap_array.MemoryMappedArray(path, mode="w+", shape=(1_000_000,))
        except OSError as error:
            print(error.errno, error.filename == path)
        assert np.array_equal(mmap_array.MemoryMappedArray(path).get_array(), np.arange(1000.0))
        print(sorted(os.listdir(sys.argv[1])))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{errno.ENOSPC} True", "['data.bin']"]


def test_write_binary_on_a_full_disk_is_enospc_and_keeps_the_old_file():
    result = run_on_small_filesystem(
        """
        import os, sys, numpy as np, mmap_array
        path = os.path.join(sys.argv[1], "data.bin")
        mmap_array.write_binary(path, np.arange(1000.0))
        try:
            mmap_array.write_binary(path, np.ones(1_000_000))
        except OSError as error:
            print(error.errno, error.filename == path)
        assert np.array_equal(np.fromfile(path), np.arange(1000.0))
        print(sorted(os.listdir(sys.argv[1])))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{errno.ENOSPC} True", "['data.bin']"]
