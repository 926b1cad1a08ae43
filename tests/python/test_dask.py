"""Dask: dask.array.from_array(mm) and mm.to_dask(), locally and on a cluster.

On a distributed cluster each task carries the handle by reference (a few
hundred bytes): the workers map the file themselves, and no chunk's bytes
travel from the client.
"""

from __future__ import annotations

import os
import pickle

import dask
import dask.array as da
import dask.threaded
import numpy as np
import pytest
from dask.base import tokenize
from distributed import Client, LocalCluster, wait
from distributed.protocol.pickle import dumps as distributed_dumps

import mmap_array
from sharing_workers import backed_by_file, mapped_ranges

ROWS, COLUMNS = 4000, 500  # 16 MB of float64, in chunks of 500 x 500 (2 MB)
CHUNKS = (500, 500)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    data = np.random.default_rng(11).random((ROWS, COLUMNS))
    path = tmp_path_factory.mktemp("dask") / "matrix.npy"
    mmap_array.save(path, data)
    return path, data


def test_from_array_reads_chunks_as_views_of_the_mapping(matrix):
    path, data = matrix
    mm = mmap_array.open(path)
    x = da.from_array(mm, chunks=CHUNKS)
    assert x.shape == data.shape and x.dtype == data.dtype and x.numblocks == (8, 1)
    assert np.allclose(x.sum(axis=0).compute(scheduler="threads"), data.sum(axis=0))
    # What the task of one chunk returns, before Dask assembles a result: a view, no copy.
    block = dask.threaded.get(dict(x.__dask_graph__()), (x.name, 3, 0))
    assert np.array_equal(block, data[1500:2000])
    assert np.shares_memory(block, mm.get_array())


def test_to_dask_defaults_to_auto_chunks(matrix):
    path, data = matrix
    x = mmap_array.open(path).to_dask()
    assert x.chunks == da.empty(data.shape, chunks="auto", dtype=data.dtype).chunks
    assert np.array_equal(x[::997, 3].compute(scheduler="sync"), data[::997, 3])


def test_to_dask_tasks_are_small_pickles(matrix):
    path, data = matrix
    x = mmap_array.open(path).to_dask(chunks=CHUNKS)
    graph = dict(x.__dask_graph__())
    assert len(graph) == x.npartitions  # the handle is inside each task, not a task of its own
    chunk_bytes = CHUNKS[0] * CHUNKS[1] * data.itemsize
    sizes = [len(distributed_dumps(task)) for task in graph.values()]
    assert max(sizes) < 1024 < chunk_bytes, sizes


def test_tokens_follow_the_file_and_its_state(matrix, tmp_path):
    path, _ = matrix
    assert tokenize(mmap_array.open(path)) == tokenize(mmap_array.open(path))
    assert tokenize(mmap_array.open(path)) != tokenize(mmap_array.open(path, mode="r+"))
    other = tmp_path / "other.npy"
    mmap_array.save(other, np.zeros(3))
    first = tokenize(mmap_array.open(other))
    mmap_array.save(other, np.ones(3))  # replaced: another identity
    assert tokenize(mmap_array.open(other)) != first
    # Copy-on-write handles may hold private changes: each is only equal to itself.
    a, b = mmap_array.open(other, mode="c"), mmap_array.open(other, mode="c")
    assert tokenize(a) == tokenize(a) != tokenize(b)


def test_to_dask_on_a_closed_handle_names_the_file(matrix):
    mm = mmap_array.open(matrix[0])
    mm.close()
    with pytest.raises(ValueError, match="matrix.npy.*closed"):
        mm.to_dask()


def test_writes_through_dask_store_reach_an_r_plus_file(tmp_path):
    target = mmap_array.create(tmp_path / "out.npy", (1000, 10), "float64")
    source = da.arange(10_000, chunks=2500, dtype="float64").reshape(1000, 10)
    da.store(source, target, scheduler="threads")  # uses mm[key] = value
    target.flush()
    assert np.array_equal(np.load(tmp_path / "out.npy"), np.arange(10_000.0).reshape(1000, 10))


def _worker_chunks_are_mapped(dask_worker, path: str) -> dict:
    """On a worker: its pid, whether it maps ``path``, and whether its chunks are that mapping."""
    arrays = [value for value in dask_worker.data.values() if isinstance(value, np.ndarray)]
    return {
        "pid": os.getpid(),
        "maps_file": bool(mapped_ranges(path)),
        "chunks": len(arrays),
        "chunks_backed_by_file": all(backed_by_file(array, path) for array in arrays),
    }


def test_a_local_cluster_maps_the_file_in_its_workers(matrix):
    path, data = matrix
    mm = mmap_array.open(path)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster, Client(cluster) as client:
        x = mm.to_dask(chunks=CHUNKS)
        total, column_means, rows, corner = client.compute(
            [x.sum(), x.mean(axis=0), x[123:3456:7], x[-10:, :5][::-1]], sync=True
        )
        assert total == pytest.approx(data.sum())
        assert np.allclose(column_means, data.mean(axis=0))
        assert np.array_equal(rows, data[123:3456:7])
        assert np.array_equal(corner, data[-10:, :5][::-1])

        # Chunks kept on the workers are views of the workers' own mappings of the file:
        # no chunk was read by this process and sent over.
        persisted = x.persist()
        client.wait_for_workers(2)
        wait(persisted)
        reports = client.run(_worker_chunks_are_mapped, path=str(path))
        assert len(reports) == 2
        assert sum(report["chunks"] for report in reports.values()) == x.npartitions
        for report in reports.values():
            assert report["pid"] != os.getpid()
            if report["chunks"]:
                assert report["maps_file"] and report["chunks_backed_by_file"], report
        del persisted
