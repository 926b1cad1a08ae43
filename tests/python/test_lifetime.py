"""Lifetimes: the mapping lives exactly as long as the handle or any view of it.

Whether a file is mapped is read from /proc/self/maps, so these tests see the
real unmapping, not just Python objects going away.
"""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

import mmap_array
from conftest import mappings_of, run_python, write_bytes


@pytest.fixture
def path(tmp_path):
    return write_bytes(tmp_path / "data.bin", np.arange(10_000, dtype=np.float64))


def test_close_without_views_unmaps_at_once(path):
    mm = mmap_array.MemoryMappedArray(path)
    assert mappings_of(path) == 1
    mm.close()
    assert mappings_of(path) == 0


def test_collecting_the_handle_unmaps(path):
    mm = mmap_array.MemoryMappedArray(path)
    del mm
    gc.collect()
    assert mappings_of(path) == 0


def test_close_keeps_live_arrays_valid_until_the_last_one_goes(path):
    mm = mmap_array.MemoryMappedArray(path)
    first, second = mm.get_array(), mm.get_array()
    mm.close()
    assert mappings_of(path) == 1
    assert first[9_999] == 9_999.0
    del first
    gc.collect()
    assert mappings_of(path) == 1 and second.sum() == sum(range(10_000))
    del second
    gc.collect()
    assert mappings_of(path) == 0


def test_slices_of_slices_keep_the_mapping(path):
    mm = mmap_array.MemoryMappedArray(path, mode="r+")
    view = mm.get_array()[10:][::3].reshape(-1, 1)[5:, :]
    del mm
    gc.collect()
    assert mappings_of(path) == 1
    assert view[0, 0] == 25.0
    view[0, 0] = -1.0  # still writable memory, still the file's pages
    del view
    gc.collect()
    assert mappings_of(path) == 0
    assert np.frombuffer(path.read_bytes(), dtype=np.float64)[25] == -1.0


def test_memoryview_and_asarray_keep_the_mapping_after_close(path):
    mm = mmap_array.MemoryMappedArray(path)
    view, array = memoryview(mm), np.asarray(mm)
    mm.close()
    del mm
    gc.collect()
    assert view[3] == 3.0 and array[4] == 4.0
    view.release()
    assert mappings_of(path) == 1
    del array
    gc.collect()
    assert mappings_of(path) == 0


def test_views_in_reference_cycles_are_collected(path):
    mm = mmap_array.MemoryMappedArray(path)
    cycle: list = [mm.get_array()]
    cycle.append(cycle)
    del mm, cycle
    gc.collect()
    assert mappings_of(path) == 0


def test_every_handle_is_its_own_mapping(path):
    handles = [mmap_array.MemoryMappedArray(path) for _ in range(5)]
    assert mappings_of(path) == 5
    for handle in handles:
        handle.close()
    assert mappings_of(path) == 0


def test_threads_reading_while_another_closes(path):
    mm = mmap_array.MemoryMappedArray(path, mode="r+")
    expected = float(sum(range(10_000)))
    failures: list[str] = []
    refused = threading.Event()
    start = threading.Barrier(5)

    def reader():
        start.wait()
        held = []
        while True:
            try:
                arr = mm.get_array()
            except ValueError:
                refused.set()
                break
            held.append(arr[::2])
            if arr.sum() != expected:
                failures.append("bad sum")
        # Every view taken before the close is still readable after it.
        if any(float(h[1]) != 2.0 for h in held):
            failures.append("held view changed")

    def flusher():
        start.wait()
        while not refused.is_set():
            try:
                mm.flush()
            except ValueError:
                break

    threads = [threading.Thread(target=reader) for _ in range(3)] + [threading.Thread(target=flusher)]
    for thread in threads:
        thread.start()
    start.wait()
    mm.close()
    for thread in threads:
        thread.join()
    assert failures == []
    gc.collect()
    assert mappings_of(path) == 0


def test_no_sequence_of_calls_touches_unmapped_memory(tmp_path):
    # In a child, so that a use-after-unmap would show as a crash, not take pytest down.
    write_bytes(tmp_path / "data.bin", np.arange(512, dtype=np.float64))
    result = run_python(
        """
        import gc, numpy as np, mmap_array
        for round in range(200):
            mm = mmap_array.MemoryMappedArray("data.bin", mode="c")
            a = mm.get_array()
            b = a[::-1][10:]
            v = memoryview(mm)
            mm.close()
            del mm
            gc.collect()
            a[0] = round
            assert b[0] == 501.0 and v[511] == 511.0
            del a
            gc.collect()
            assert float(np.asarray(v).sum()) == sum(range(512)) + round
            del b, v
            gc.collect()
        print("ok")
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
