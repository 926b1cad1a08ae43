"""create()'s write-behind: the pages of a filled file reach the disk before flush().

Dirty pages are counted with cachestat(2) (Linux 6.5), through a descriptor of the
test's own, so the tests see what the kernel holds, not what the library says.
"""

from __future__ import annotations

import ctypes
import gc
import os
import threading
import time
import weakref

import numpy as np
import pytest

import mmap_array
from conftest import open_descriptors, run_python

BIG = 32 << 20  # above create()'s 16 MiB threshold
THREAD_NAME = "mmap_array write-behind"

_libc = ctypes.CDLL(None, use_errno=True)


class _Range(ctypes.Structure):
    _fields_ = [("off", ctypes.c_uint64), ("len", ctypes.c_uint64)]


class _Stat(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("cache", "dirty", "writeback", "evicted", "recent")]


def dirty_bytes(path) -> int:
    """Bytes of ``path`` dirty in the page cache (cachestat, syscall 451)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        stat = _Stat()
        if _libc.syscall(451, fd, ctypes.byref(_Range(0, 0)), ctypes.byref(stat), 0) != 0:
            raise OSError(ctypes.get_errno(), "cachestat")
        return stat.dirty * os.sysconf("SC_PAGE_SIZE")
    finally:
        os.close(fd)


def write_behinds() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def wait_for_write_behinds(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    for thread in write_behinds():
        thread.join(max(0.0, deadline - time.monotonic()))
        assert not thread.is_alive(), "a write-behind thread did not end"


def filled(path, nbytes: int = BIG, **kwargs) -> mmap_array.MemoryMappedArray:
    mm = mmap_array.create(path, (nbytes // 8,), "float64", format="raw", **kwargs)
    mm.get_array()[...] = np.arange(nbytes // 8, dtype=np.float64)
    return mm


@pytest.fixture(autouse=True)
def no_write_behind_left():
    wait_for_write_behinds()
    yield
    wait_for_write_behinds()


def test_the_filled_pages_are_written_before_flush(tmp_path):
    mm = filled(tmp_path / "on.bin")
    wait_for_write_behinds()  # it ends 50 ms after the pages stop changing
    # At most the last batch, under 8 MiB, is left for flush.
    assert dirty_bytes(tmp_path / "on.bin") < 8 << 20
    # Without it, the kernel leaves every page dirty for flush (for 30 s).
    off = filled(tmp_path / "off.bin", write_behind=False)
    assert not write_behinds()
    assert dirty_bytes(tmp_path / "off.bin") > BIG // 2  # (ext4's journal may write some)
    for handle in (mm, off):
        handle.flush()
        handle.close()
    assert dirty_bytes(tmp_path / "on.bin") == 0


def test_every_byte_reaches_the_file_including_rewrites_after_a_batch_left(tmp_path):
    path = tmp_path / "data.npy"
    values = np.random.default_rng(1).random(BIG // 8)
    mm = mmap_array.create(path, values.shape)
    arr = mm.get_array()
    arr[...] = values
    wait_for_write_behinds()
    arr[: 1 << 17] = -1.0  # pages written back already, dirtied again
    values[: 1 << 17] = -1.0
    mm.flush()
    mm.close()
    del arr
    np.testing.assert_array_equal(np.load(path), values)


def test_flush_ends_it(tmp_path):
    mm = mmap_array.create(tmp_path / "data.bin", (BIG // 8,), format="raw")
    arr = mm.get_array()
    threads = write_behinds()
    mm.flush()
    # New pages every few milliseconds would keep it running (it ends 50 ms after the
    # last change): after flush it must be gone anyway.
    step = (2 << 20) // 8
    for start in range(0, arr.size, step):
        arr[start : start + step] = 1.0
        time.sleep(0.005)
    assert threads and not any(thread.is_alive() for thread in threads)
    mm.close()


def test_the_end_of_its_mapping_ends_it(tmp_path):
    path = tmp_path / "data.bin"
    mm = mmap_array.create(path, (BIG // 8,), format="raw")
    threads = write_behinds()
    mm.close()  # no array left: the mapping goes now
    # New pages of the file through another mapping would keep it running.
    arr = mmap_array.open(path, "r+", dtype="float64").get_array()
    step = (2 << 20) // 8
    for start in range(0, arr.size, step):
        arr[start : start + step] = 1.0
        time.sleep(0.005)
    assert threads and not any(thread.is_alive() for thread in threads)


def test_it_keeps_no_mapping_alive(tmp_path):
    mm = mmap_array.create(tmp_path / "data.bin", (BIG // 8,), format="raw")
    arr = mm.get_array()
    owner = weakref.ref(arr.base)
    mm.close()
    del arr
    gc.collect()
    assert owner() is None  # unmapped now, though the thread may still run
    wait_for_write_behinds()


def test_small_files_and_write_behind_false_start_no_thread(tmp_path):
    small = mmap_array.create(tmp_path / "small.bin", ((16 << 20) // 8 - 1,), format="raw")
    off = mmap_array.create(tmp_path / "off.bin", (BIG // 8,), format="raw", write_behind=False)
    assert write_behinds() == []
    small.close()
    off.close()


def test_no_descriptor_is_left_open(tmp_path):
    before = open_descriptors()
    mm = filled(tmp_path / "data.bin")
    assert open_descriptors() <= before + 1  # the thread's own, while it runs
    wait_for_write_behinds()
    assert open_descriptors() == before
    mm.flush()
    mm.close()


def test_at_most_four_run_at_once(tmp_path):
    handles = [
        mmap_array.create(tmp_path / f"f{i}.bin", (BIG // 8,), format="raw", write_behind=False)
        for i in range(6)
    ]
    assert [handle._write_behind() for handle in handles] == [True] * 4 + [False] * 2
    for handle in handles:
        handle.close()


def test_the_interpreter_exits_cleanly_while_one_runs(tmp_path):
    # The thread is not a daemon (a daemon could be killed in C++ frames): the exit waits
    # until the pages stop changing, and the file is whole.
    result = run_python(
        f"""
        import threading
        import mmap_array
        mm = mmap_array.create({str(tmp_path / "data.bin")!r}, (4 << 20,), format="raw")
        mm.get_array()[...] = 1.0
        print([t.name for t in threading.enumerate() if "write-behind" in t.name])
        """,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() == "['mmap_array write-behind']"
    assert np.all(np.fromfile(tmp_path / "data.bin") == 1.0)


def test_a_forked_child_has_all_four_places(tmp_path):
    # The child has none of its parent's threads: their places are free there.
    result = run_python(
        f"""
        import os
        import mmap_array
        def make(i):
            return mmap_array.create(os.path.join({str(tmp_path)!r}, f"f{{i}}.bin"), (4 << 20,),
                                     format="raw", write_behind=False)
        parents = [make(i) for i in range(4)]
        print([h._write_behind() for h in parents])
        pid = os.fork()
        if pid == 0:
            children = [make(10 + i) for i in range(4)]
            os._exit(0 if all(h._write_behind() for h in children) else 3)
        print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        """,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[True, True, True, True]", "0"]


def test_an_exit_does_not_wait_for_a_first_write_that_never_comes(tmp_path):
    # The thread waits up to 5 s for the first write; the interpreter's exit stops it.
    start = time.monotonic()
    result = run_python(
        f"""
        import mmap_array
        mm = mmap_array.create({str(tmp_path / "data.bin")!r}, (4 << 20,), format="raw")
        """,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - start < 5.0
