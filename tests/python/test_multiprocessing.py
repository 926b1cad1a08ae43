"""Handles and containers travel to worker processes by reference.

multiprocessing.Pool, concurrent.futures.ProcessPoolExecutor and
joblib.Parallel pickle what they send to workers. Under fork and spawn alike,
a worker must get a handle that maps the file itself (its array lies inside a
mapping of the file in the worker's own /proc/self/maps, so no bytes were
copied), and workers writing disjoint rows of an "r+" handle must together
produce the right file.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import pickle
import sys

import joblib
import numpy as np
import pytest

import mmap_array
import sharing_workers
from sharing_workers import describe, describe_container, write_rows

ROWS, COLUMNS = 64, 1024  # 512 KiB of float64: far more than any pickle of a handle


def run_in_pool(pool: str, start_method: str, function, calls: list[tuple]) -> list:
    """Run ``function(*args)`` for each of ``calls`` in two worker processes."""
    context = multiprocessing.get_context(start_method)
    if pool == "Pool":
        with context.Pool(2) as workers:
            return workers.starmap(function, calls)
    if pool == "ProcessPoolExecutor":
        with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as workers:
            return list(workers.map(function, *zip(*calls)))
    if pool == "joblib":
        if start_method == "loky":  # joblib's default backend: fork + exec, like spawn
            return joblib.Parallel(n_jobs=2, backend="loky")(joblib.delayed(function)(*args) for args in calls)
        # A multiprocessing context as the backend is joblib's documented way to choose the
        # start method (parallel_config(context=...) is overridden by its default context).
        return joblib.Parallel(n_jobs=2, backend=context)(joblib.delayed(function)(*args) for args in calls)
    raise AssertionError(pool)


POOLS = [
    ("Pool", "fork"),
    ("Pool", "spawn"),
    ("ProcessPoolExecutor", "fork"),
    ("ProcessPoolExecutor", "spawn"),
    ("joblib", "fork"),
    ("joblib", "spawn"),
    ("joblib", "loky"),
]


@pytest.fixture
def spawnable(monkeypatch):
    """Spawned workers import sharing_workers by name: put its directory on their path.

    Also marks this process, so each worker's report tells whether it was forked from here
    (it sees the mark) or started afresh (it does not).
    """
    here = os.path.dirname(sharing_workers.__file__)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])))
    monkeypatch.setattr(sys, sharing_workers.PARENT_MARK, os.getpid(), raising=False)


@pytest.mark.parametrize("pool, start_method", POOLS, ids=[f"{p}-{m}" for p, m in POOLS])
def test_workers_map_the_file_themselves_and_write_disjoint_rows(tmp_path, spawnable, pool, start_method):
    data = np.random.default_rng(3).random((ROWS, COLUMNS))
    source = tmp_path / "data.npy"
    mmap_array.save(source, data)
    reader = mmap_array.open(source)
    assert len(pickle.dumps(reader)) < 1024 < data.nbytes

    target = tmp_path / "rows.npy"
    writer = mmap_array.create(target, (ROWS, COLUMNS), "float64")
    quarter = ROWS // 4
    calls = [(writer, k * quarter, (k + 1) * quarter) for k in range(4)]

    seen = run_in_pool(pool, start_method, describe, [(reader,)] * 4)
    writers = run_in_pool(pool, start_method, write_rows, calls)

    assert {report["pid"] for report in seen}.isdisjoint({os.getpid()})
    assert set(writers).isdisjoint({os.getpid()})
    for report in seen:
        assert (report["inherited"] == os.getpid()) == (start_method == "fork")
        assert report["type"] == "MemoryMappedArray" and report["mode"] == "r"
        assert report["backed_by_file"], "the worker's array is not the mapped file"
        assert report["sum"] == pytest.approx(data.sum())
        assert np.array_equal(report["first_row"], data[0])
    expected = np.repeat(np.arange(ROWS, dtype=np.float64)[:, None], COLUMNS, axis=1)
    assert np.array_equal(np.load(target), expected)
    assert np.array_equal(writer.get_array(), expected)  # the parent's mapping sees it too


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_containers_reach_workers_by_reference(tmp_path, spawnable, start_method):
    path = tmp_path / "m.safetensors"
    tensors = {"a": np.arange(50_000, dtype=np.float32), "b": np.ones((300, 300), np.float64)}
    mmap_array.save_safetensors(path, tensors)
    weights = mmap_array.open_safetensors(path)
    (report,) = run_in_pool("Pool", start_method, describe_container, [(weights,)])
    assert report["pid"] != os.getpid() and report["keys"] == weights.keys()
    assert report["backed_by_file"]
    assert report["sums"] == {name: float(value.sum()) for name, value in tensors.items()}


def test_a_copy_on_write_handle_fails_to_reach_a_worker_with_the_reason(tmp_path, spawnable):
    path = tmp_path / "c.bin"
    np.arange(10.0).tofile(path)
    handle = mmap_array.MemoryMappedArray(path, mode="c")
    with pytest.raises(TypeError, match="copy-on-write"):
        run_in_pool("ProcessPoolExecutor", "spawn", describe, [(handle,)])
