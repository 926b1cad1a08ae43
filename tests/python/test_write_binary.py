"""write_binary: the seed's float64 file format, written completely and atomically."""

from __future__ import annotations

import errno
import os
import stat

import numpy as np
import pytest

import mmap_array
from conftest import run_python, unprivileged_prefix, write_bytes


def _read(path) -> np.ndarray:
    return np.frombuffer(path.read_bytes(), dtype=np.float64)


@pytest.mark.parametrize(
    "values",
    [
        np.arange(12.0).reshape(3, 4),
        np.arange(12.0).reshape(3, 4, order="F"),
        np.arange(40.0)[::3],
        np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1),
        np.arange(6.0).astype(">f8"),
        np.array(7.0),
        np.zeros((0, 3)),
    ],
    ids=["C", "F", "strided", "transposed", "big-endian", "0-d", "empty"],
)
def test_any_layout_is_written_in_c_order_as_native_float64(tmp_path, values):
    path = tmp_path / "out.bin"
    mmap_array.write_binary(path, values)
    assert path.read_bytes() == np.ascontiguousarray(values, dtype=np.float64).tobytes()


def test_casting_works_through_a_bounded_buffer(tmp_path):
    # 48 MB as float64: several casting blocks, and a non-contiguous source on top.
    values = np.arange(12_000_000, dtype=np.int32).reshape(3_000, 4_000)[:, ::2]
    path = tmp_path / "cast.bin"
    mmap_array.write_binary(path, values)
    written = mmap_array.MemoryMappedArray(path, shape=values.shape).get_array()
    np.testing.assert_array_equal(written, values)


def test_write_binary_then_map_round_trips_bit_for_bit(tmp_path):
    values = np.random.default_rng(1).standard_normal(10_001)
    values[:4] = [np.nan, np.inf, -0.0, 5e-324]
    mmap_array.write_binary(tmp_path / "x.bin", values)
    back = mmap_array.MemoryMappedArray(tmp_path / "x.bin").get_array()
    assert back.tobytes() == values.tobytes()


def test_overwriting_a_mapped_file_leaves_its_mappings_reading_the_old_bytes(tmp_path):
    path = tmp_path / "model.bin"
    mmap_array.write_binary(path, np.full(1000, 1.0))
    live = mmap_array.MemoryMappedArray(path).get_array()
    mmap_array.write_binary(path, np.full(10, 2.0))  # shorter: an in-place write would truncate
    assert (live == 1.0).all() and live.size == 1000
    assert (_read(path) == 2.0).all() and _read(path).size == 10


def test_replacing_keeps_the_permission_bits(tmp_path):
    path = write_bytes(tmp_path / "perm.bin", np.zeros(1))
    path.chmod(0o604)
    mmap_array.write_binary(path, np.ones(1))
    assert path.stat().st_mode & 0o777 == 0o604


def test_new_files_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        mmap_array.write_binary(tmp_path / "new.bin", np.ones(1))
    finally:
        os.umask(old)
    assert (tmp_path / "new.bin").stat().st_mode & 0o777 == 0o640


def test_a_symlink_is_followed_and_kept(tmp_path):
    target = write_bytes(tmp_path / "real.bin", np.zeros(2))
    link = tmp_path / "link.bin"
    link.symlink_to(target.name)
    mmap_array.write_binary(link, np.ones(3))
    assert link.is_symlink()
    assert (_read(target) == 1.0).all() and _read(target).size == 3


def test_target_that_is_a_directory_is_is_a_directory_error(tmp_path):
    with pytest.raises(IsADirectoryError) as info:
        mmap_array.write_binary(tmp_path, np.ones(1))
    assert info.value.filename == str(tmp_path)


def test_missing_directory_is_file_not_found_error_naming_the_target(tmp_path):
    path = tmp_path / "missing" / "out.bin"
    with pytest.raises(FileNotFoundError) as info:
        mmap_array.write_binary(path, np.ones(1))
    assert info.value.filename == str(path) and info.value.errno == errno.ENOENT


def test_unwritable_directory_is_permission_error_and_leaves_the_target(tmp_path):
    tmp_path.chmod(0o755)
    directory = tmp_path / "locked"
    directory.mkdir()
    target = write_bytes(directory / "out.bin", np.zeros(2))
    directory.chmod(0o555)
    try:
        result = run_python(
            f"""
            import numpy as np, mmap_array
            try:
                mmap_array.write_binary({str(target)!r}, np.ones(5))
            except PermissionError as error:
                print(error.errno, error.filename)
            """,
            prefix=unprivileged_prefix(),
        )
    finally:
        directory.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(errno.EACCES), str(target)]
    assert (_read(target) == 0.0).all() and sorted(os.listdir(directory)) == ["out.bin"]


def test_interrupted_writer_never_leaves_a_torn_target(tmp_path):
    # SIGKILL a writer at random moments; the target is always the complete old or new file.
    old, new = np.full(2_000_000, 1.0), np.full(2_000_000, 2.0)
    path = write_bytes(tmp_path / "target.bin", old)
    for delay in (0.01, 0.03, 0.05, 0.08, 0.12):
        result = run_python(
            f"""
            import os, signal, threading, numpy as np, mmap_array
            threading.Timer({delay}, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()
            while True:
                mmap_array.write_binary("target.bin", np.full(2_000_000, 2.0))
            """,
            cwd=tmp_path,
        )
        assert result.returncode == -9
        content = path.read_bytes()
        assert content in (old.tobytes(), new.tobytes())


def test_a_fifo_target_is_refused_and_kept(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for write in (lambda: mmap_array.write_binary(fifo, [1.0]),
                  lambda: mmap_array.MemoryMappedArray(fifo, mode="w+", shape=1)):
        with pytest.raises(OSError) as info:
            write()
        assert info.value.errno == errno.ENODEV and "FIFO" in str(info.value)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.listdir(tmp_path) == ["pipe"]


def test_a_device_target_is_refused():
    with pytest.raises(OSError) as info:
        mmap_array.MemoryMappedArray("/dev/null", mode="w+", shape=5)
    assert info.value.errno == errno.ENODEV
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_a_read_only_target_is_refused_like_an_in_place_write(tmp_path):
    tmp_path.chmod(0o755)
    target = write_bytes(tmp_path / "ro.bin", np.zeros(2))
    target.chmod(0o444)
    result = run_python(
        f"""
        import numpy as np, mmap_array
        for write in (lambda: mmap_array.write_binary({str(target)!r}, np.ones(2)),
                      lambda: mmap_array.MemoryMappedArray({str(target)!r}, mode="w+", shape=2)):
            try:
                write()
            except PermissionError as error:
                print(error.errno)
        """,
        prefix=unprivileged_prefix(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(errno.EACCES)] * 2
    assert _read(target).tolist() == [0.0, 0.0]


def test_a_dangling_symlink_creates_its_target(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    link = tmp_path / "a" / "link.bin"
    link.symlink_to("../b/new.bin")
    mmap_array.write_binary(link, [1.0, 2.0])
    assert link.is_symlink() and _read(tmp_path / "b" / "new.bin").tolist() == [1.0, 2.0]
