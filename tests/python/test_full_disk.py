"""A full disk is an OSError(ENOSPC) at the call that needs the space, never a bus error later."""

from __future__ import annotations

import errno

import pytest

from conftest import WRITERS, assert_refused, run_on_small_filesystem, write_and_report, write_old_target


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


# Every way of writing a file, the two above included: these also check the message names the
# target and that no temporary file is left.
@pytest.mark.parametrize("writer", list(WRITERS))
def test_every_writer_on_a_full_disk_is_enospc_naming_the_target_and_keeps_the_old_file(writer):
    # 8 MB into a 1 MB filesystem.
    result = run_on_small_filesystem(write_old_target(writer) + write_and_report(writer, 1_000_000))
    assert_refused(result, writer, errno.ENOSPC)


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_new_file_on_a_full_disk_is_enospc_and_leaves_nothing(writer):
    result = run_on_small_filesystem(write_and_report(writer, 1_000_000))
    assert_refused(result, writer, errno.ENOSPC, existed=False)
