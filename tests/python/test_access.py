"""Access controls: advise, prefetch, populate, residency, residency_map, take, page_info.

Cold-cache tests need a file system that can drop a file's pages (tmpfs cannot):
they write under /var/tmp, evict with posix_fadvise(DONTNEED), check the eviction
with mincore through ctypes (independently of the code under test), and skip,
saying why, where the pages stay.
"""

from __future__ import annotations

import ctypes
import errno
import io
import mmap
import os
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import mmap_array
from conftest import run_python

PAGE = mmap.PAGESIZE
ADVICE = ["normal", "sequential", "random", "willneed", "dontneed", "hugepage", "nohugepage"]

# --- helpers -------------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_ubyte)]


def page_cache_fraction(path: str | os.PathLike) -> float:
    """The fraction of the file's pages in the page cache, asked of mincore through ctypes."""
    size = os.path.getsize(path)
    if size == 0:
        return 1.0
    with open(path, "rb") as f, mmap.mmap(f.fileno(), size, access=mmap.ACCESS_COPY) as m:
        anchor = ctypes.c_char.from_buffer(m)
        try:
            pages = (size + PAGE - 1) // PAGE
            vector = (ctypes.c_ubyte * pages)()
            if _libc.mincore(ctypes.addressof(anchor), size, vector) != 0:
                raise OSError(ctypes.get_errno(), "mincore")
            return sum(v & 1 for v in vector) / pages
        finally:
            del anchor


def evict(path: str | os.PathLike) -> None:
    """Write the file's dirty pages and drop its clean ones from the page cache."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


@pytest.fixture
def disk():
    """A scratch directory on a file system that can evict pages (skips, saying why, if not)."""
    directory = Path(tempfile.mkdtemp(prefix="mmap_array-access-", dir="/var/tmp"))
    try:
        probe = directory / "probe.bin"
        probe.write_bytes(os.urandom(64 * PAGE))
        evict(probe)
        if page_cache_fraction(probe) > 0.5:
            pytest.skip(f"the file system under {directory} keeps evicted pages (tmpfs?): no cold cache")
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def cold_file(directory: Path, nbytes: int, name: str = "cold.bin") -> Path:
    """A file of ``nbytes`` random bytes, written and then evicted."""
    path = directory / name
    with open(path, "wb") as f:
        for _ in range(0, nbytes, 1 << 20):
            f.write(os.urandom(1 << 20))
        f.truncate(nbytes)
    evict(path)
    return path


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


@pytest.fixture
def matrix(tmp_path: Path):
    """A raw 10 x 4 float64 file, mapped, and its values."""
    values = np.arange(40, dtype=np.float64).reshape(10, 4)
    path = tmp_path / "matrix.bin"
    values.tofile(path)
    return mmap_array.MemoryMappedArray(path, shape=(10, 4)), values


# --- advise --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["r", "r+", "c"])
def test_every_advice_is_accepted_and_changes_no_data(matrix, mode):
    mm, values = matrix
    mm = mmap_array.MemoryMappedArray(mm.filename, shape=(10, 4), mode=mode)
    for advice in ADVICE:
        try:
            assert mm.advise(advice) is None
            mm.advise(advice, 2, 5)
        except OSError as error:  # a kernel without transparent huge pages
            assert advice in ("hugepage", "nohugepage") and error.errno == errno.EINVAL, error
            assert f"'{advice}'" in str(error) and error.filename == mm.filename
    assert np.array_equal(mm.get_array(), values)


def test_unknown_advice_is_a_value_error_listing_the_valid_ones(matrix):
    mm, _ = matrix
    with pytest.raises(ValueError) as caught:
        mm.advise("randm")
    message = str(caught.value)
    assert "'randm'" in message and mm.filename in message
    for advice in ADVICE:
        assert f"'{advice}'" in message
    with pytest.raises(TypeError, match="advice must be a str, not int"):
        mm.advise(3)


def test_dontneed_drops_the_changes_of_a_copy_on_write_mapping(matrix):
    mm, values = matrix
    cow = mmap_array.MemoryMappedArray(mm.filename, shape=(10, 4), mode="c")
    arr = cow.get_array()
    arr[:] = -1
    cow.advise("dontneed")
    assert np.array_equal(arr, values)  # documented: the kernel refaults the file's bytes


# --- start and stop ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "stop", "message"),
    [
        (11, None, "start=11 is outside the array's 10 rows"),
        (-11, None, "start=-11 is outside the array's 10 rows"),
        (None, 11, "stop=11 is outside the array's 10 rows"),
        (5, 3, "stop=3 comes before start=5"),
        (2**80, None, "start=1208925819614629174706176 is out of range"),
    ],
)
def test_rows_outside_the_array_are_refused_by_every_ranged_method(matrix, start, stop, message):
    mm, _ = matrix
    calls = [
        lambda: mm.advise("random", start, stop),
        lambda: mm.prefetch(start, stop),
        lambda: mm.populate(start, stop),
        lambda: mm.residency(start, stop),
        lambda: mm.residency_map(4, start, stop),
    ]
    for call in calls:
        with pytest.raises(ValueError) as caught:
            call()
        assert message in str(caught.value) and mm.filename in str(caught.value)


def test_start_and_stop_must_be_integers(matrix):
    mm, _ = matrix
    with pytest.raises(TypeError, match="start must be an integer or None, not float"):
        mm.residency(1.5)
    with pytest.raises(TypeError, match="stop must be an integer or None, not str"):
        mm.populate(0, "3")
    assert mm.residency(np.int64(2), np.uint8(5)) == 1.0  # operator.index works


def test_negative_and_partial_ranges_select_the_right_bytes(tmp_path):
    # 64 rows of one page each, offset by 100 bytes so the rows straddle pages.
    path = tmp_path / "rows.bin"
    path.write_bytes(b"h" * 100 + bytes(64 * PAGE))
    mm = mmap_array.MemoryMappedArray(path, dtype=f"V{PAGE}", offset=100)
    mm.advise("dontneed", -3)  # the last three rows
    mm.advise("random", 0, 0)  # an empty range: nothing to do
    assert mm.residency(-3) == 1.0  # still in the page cache (tmp may be tmpfs or disk)
    assert mm.residency(10, 10) == 1.0  # empty


def test_rows_of_a_fortran_array_have_no_byte_range(tmp_path):
    values = np.arange(12.0).reshape(3, 4)
    path = tmp_path / "f.bin"
    values.T.tofile(path)
    mm = mmap_array.MemoryMappedArray(path, shape=(3, 4), order="F")
    with pytest.raises(ValueError, match="Fortran-ordered"):
        mm.populate(1, 2)
    mm.populate()
    mm.populate(0, 3)  # all rows: the whole array
    assert mm.residency() == 1.0
    one_d = mmap_array.MemoryMappedArray(path, order="F")
    one_d.populate(2, 5)  # 1-D: rows are contiguous in either order


def test_a_zero_dimensional_array_has_one_row(tmp_path):
    path = tmp_path / "scalar.npy"
    np.save(path, np.float64(4.5))
    mm = mmap_array.open(path)
    assert mm.shape == ()
    mm.populate(0, 1)
    assert mm.residency() == 1.0
    with pytest.raises(ValueError, match="stop=2 is outside the array's 1 rows"):
        mm.residency(0, 2)


# --- closed and poisoned handles -----------------------------------------------------------

CALLS = {
    "advise": lambda mm: mm.advise("random"),
    "prefetch": lambda mm: mm.prefetch(),
    "populate": lambda mm: mm.populate(),
    "residency": lambda mm: mm.residency(),
    "residency_map": lambda mm: mm.residency_map(),
    "take": lambda mm: mm.take([0]),
    "page_info": lambda mm: mm.page_info(),
}


@pytest.mark.parametrize("name", CALLS)
def test_a_closed_handle_is_refused(matrix, name):
    mm, _ = matrix
    mm.close()
    with pytest.raises(ValueError, match="closed") as caught:
        CALLS[name](mm)
    assert mm.filename in str(caught.value)


# --- populate ------------------------------------------------------------------------------


def test_populate_reads_an_evicted_file_into_memory(disk):
    path = cold_file(disk, 24 << 20)
    assert page_cache_fraction(path) < 0.5
    mm = mmap_array.MemoryMappedArray(path, dtype=np.uint8)
    assert mm.residency() == pytest.approx(page_cache_fraction(path), abs=0.01)
    assert mm.residency() < 0.5
    mm.populate(threads=3)
    assert mm.residency() == 1.0
    assert page_cache_fraction(path) == 1.0
    info = mm.page_info()
    assert info["smaps"]["Rss"] == info["smaps"]["Size"]  # every page is mapped, too


def test_populate_of_rows_leaves_the_rest_on_disk(disk):
    path = cold_file(disk, 256 * PAGE)
    mm = mmap_array.MemoryMappedArray(path, dtype=f"V{PAGE}")
    mm.advise("random")  # no read-around past the range
    mm.populate(64, 128)
    assert mm.residency(64, 128) == 1.0
    assert mm.residency(160) < 0.5
    bins = mm.residency_map(4)
    assert bins.dtype == np.float64 and bins.shape == (4,)
    assert bins[1] == 1.0 and bins[3] < 0.5


def test_populate_threads_must_be_a_sane_count(matrix):
    mm, _ = matrix
    for bad in (0, -1, 1025):
        with pytest.raises(ValueError, match="threads must be between 1 and 1024"):
            mm.populate(threads=bad)
    with pytest.raises(TypeError, match="threads must be an integer or None"):
        mm.populate(threads="2")
    mm.populate(threads=1)
    mm.populate(threads=1024)


def test_populate_for_writing_only_on_shared_writable_mappings(matrix):
    mm, values = matrix
    with pytest.raises(ValueError, match="read-only mapping cannot be populated for writing"):
        mm.populate(write=True)
    cow = mmap_array.MemoryMappedArray(mm.filename, shape=(10, 4), mode="c")
    with pytest.raises(ValueError, match="copy-on-write"):
        cow.populate(write=True)
    shared = mmap_array.MemoryMappedArray(mm.filename, shape=(10, 4), mode="r+")
    shared.populate(write=True)
    assert np.array_equal(shared.get_array(), values)


def test_populate_runs_without_the_gil(disk):
    # Another Python thread keeps running while a cold populate waits for the disk.
    path = cold_file(disk, 64 << 20)
    mm = mmap_array.MemoryMappedArray(path, dtype=np.uint8)
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        before = len(ticks)
        started = time.monotonic()
        mm.populate(threads=1)
        elapsed = time.monotonic() - started
        during = len(ticks) - before
    finally:
        stop.set()
        ticker.join()
    if elapsed < 0.02:
        pytest.skip(f"the disk read 64 MiB in {elapsed * 1000:.1f} ms: too fast to observe")
    assert during >= 3, (during, elapsed)


# --- prefetch ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1 << 20, 48 << 20], ids=["inline", "background"])
def test_prefetch_returns_and_the_pages_arrive(disk, size):
    path = cold_file(disk, size)
    mm = mmap_array.MemoryMappedArray(path, dtype=np.uint8)
    assert mm.prefetch() is None
    assert wait_for(lambda: mm.residency() == 1.0), mm.residency()


def _wait_for_prefetch_threads() -> None:
    assert wait_for(lambda: not any(t.name == "mmap_array prefetch" for t in threading.enumerate()))


def _main_thread_faults_during(run) -> int:
    """Page faults this thread takes while ``run()`` runs (the prefetch thread's are not counted)."""
    before = resource.getrusage(resource.RUSAGE_THREAD)
    run()
    after = resource.getrusage(resource.RUSAGE_THREAD)
    return (after.ru_minflt - before.ru_minflt) + (after.ru_majflt - before.ru_majflt)


@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_a_background_prefetch_maps_the_pages_so_the_pass_takes_no_faults(disk, cache):
    # A prefetch that only queued reads (MADV_WILLNEED) would leave every page unmapped: the
    # pass would fault at least once per 2 MiB, as the control pass does.
    path = cold_file(disk, 48 << 20)
    if cache == "warm":
        with open(path, "rb") as f:
            while f.read(64 << 10):  # small reads: the cache in small folios
                pass
    total = int(np.fromfile(path, dtype=np.uint64).sum(dtype=np.uint64))
    if cache == "cold":
        evict(path)

    control = mmap_array.MemoryMappedArray(path, dtype=np.uint64)
    control_array = control.get_array()
    assert _main_thread_faults_during(lambda: control_array.sum(dtype=np.uint64)) >= 24
    del control_array
    control.close()
    if cache == "cold":
        evict(path)

    mm = mmap_array.MemoryMappedArray(path, dtype=np.uint64)
    mm.prefetch()
    _wait_for_prefetch_threads()
    array = mm.get_array()
    sums = []
    faults = _main_thread_faults_during(lambda: sums.append(int(array.sum(dtype=np.uint64))))
    assert sums == [total]
    assert faults <= 4, faults


def test_a_background_prefetch_that_finds_the_file_shrunk_ends_quietly(disk):
    path = cold_file(disk, 48 << 20)
    mm = mmap_array.MemoryMappedArray(path, dtype=np.uint8)
    os.truncate(path, 8 << 20)
    raised = []
    previous_hook = threading.excepthook
    threading.excepthook = raised.append
    try:
        mm.prefetch()
        _wait_for_prefetch_threads()
    finally:
        threading.excepthook = previous_hook
    assert raised == []
    # The thread found pages gone, so the mapping is known to be truncated, as after a fault.
    with pytest.raises(mmap_array.FileTruncatedError, match="shrank"):
        mm.populate()


def test_prefetch_in_the_background_keeps_the_mapping_alive(disk):
    path = cold_file(disk, 96 << 20)
    mm = mmap_array.MemoryMappedArray(path, dtype=np.uint8)
    mm.prefetch()
    mm.close()  # the thread holds the mapping until it is done
    _wait_for_prefetch_threads()
    assert wait_for(lambda: page_cache_fraction(path) == 1.0)


def test_exiting_during_a_background_prefetch_is_quick_and_clean(disk):
    path = cold_file(disk, 512 << 20)
    started = time.monotonic()
    result = run_python(
        f"""
import mmap_array, numpy as np
mm = mmap_array.MemoryMappedArray({str(path)!r}, dtype=np.uint8)
mm.prefetch()
print("exiting")
"""
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["exiting"] and result.stderr == ""
    # The thread stops after its current 32 MiB step: the exit does not wait for 512 MiB.
    assert page_cache_fraction(path) < 0.9, elapsed


# --- residency -----------------------------------------------------------------------------


def test_residency_map_bins(matrix):
    mm, _ = matrix
    bins = mm.residency_map(7)
    assert bins.shape == (7,) and bins.dtype == np.float64
    assert ((bins >= 0) & (bins <= 1)).all()
    assert mm.residency_map().shape == (64,)
    for bad in (0, -3, 2**33, None):
        with pytest.raises(ValueError, match="bins must be an integer between 1 and 2\\*\\*32"):
            mm.residency_map(bad)
    with pytest.raises(TypeError, match="bins must be an integer or None"):
        mm.residency_map("4")


def test_residency_agrees_with_mincore_through_ctypes(disk):
    path = cold_file(disk, 64 * PAGE)
    mm = mmap_array.MemoryMappedArray(path, dtype=f"V{PAGE}")
    mm.advise("random")
    mm.populate(0, 16)
    assert mm.residency() == pytest.approx(page_cache_fraction(path), abs=1 / 64)
    assert mm.residency() == pytest.approx(0.25, abs=1 / 64)


def test_an_empty_array_is_fully_resident(tmp_path):
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    mm = mmap_array.MemoryMappedArray(path)
    assert mm.residency() == 1.0
    assert mm.residency_map(3).tolist() == [1.0, 1.0, 1.0]
    mm.populate()
    mm.prefetch()
    mm.advise("hugepage")
    assert mm.take([]).shape == (0,)
    assert mm.page_info()["vmas"] == 0


# --- page_info -----------------------------------------------------------------------------


def test_page_info_reports_sizes_settings_and_counters(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(4 << 20))
    mm = mmap_array.MemoryMappedArray(path, dtype=np.uint8)
    mm.populate()
    info = mm.page_info()
    assert set(info) == {"page_size", "huge_page_size", "thp_enabled", "pmd_aligned", "hugepage_advised",
                         "vmas", "smaps"}
    assert info["page_size"] == PAGE
    assert info["vmas"] == 1
    assert info["smaps"]["Size"] == 4 << 20 and info["smaps"]["Rss"] == 4 << 20
    assert "KernelPageSize" not in info["smaps"]  # not an amount: not summed
    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    if thp.exists():
        assert f"[{info['thp_enabled']}]" in thp.read_text()
        assert info["huge_page_size"] == int(Path("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size").read_text())
        assert info["pmd_aligned"]  # 4 MiB: placed where huge pages can back it
    else:
        assert info["thp_enabled"] is None and info["huge_page_size"] == 0
    # populate read the read-only mapping in huge pages where the kernel has them.
    assert info["hugepage_advised"] == (info["huge_page_size"] > 0)
    assert not mmap_array.MemoryMappedArray(path, dtype=np.uint8).page_info()["hugepage_advised"]
    writable = mmap_array.MemoryMappedArray(path, dtype=np.uint8, mode="r+")
    writable.populate()
    assert not writable.page_info()["hugepage_advised"]  # dirty huge folios may be written back whole
    try:
        mm.advise("hugepage")
    except OSError as error:
        assert error.errno == errno.EINVAL
    else:
        assert mm.page_info()["hugepage_advised"]
    mm.advise("random", 0, 1)
    assert mm.page_info()["vmas"] == 2  # advice on part of the mapping splits it


# --- take: equal to NumPy ------------------------------------------------------------------

DTYPES = [
    np.dtype("i1"),
    np.dtype("<f8"),
    np.dtype(">f4"),
    np.dtype("c16"),
    np.dtype("?"),
    np.dtype("M8[ns]"),
    np.dtype("U3"),
    np.dtype([("a", "<i4"), ("b", "S3"), ("c", ">f8")]),
    np.dtype(("<i2", (2,))),
]
SHAPES = [(), (7,), (5, 3), (4, 3, 2), (3, 0, 2)]
INDEX_SETS = [[0], [-1, 0, -1], [1, 1, 1, 0], [], [[0, 1], [-1, 0]], 0, np.array([2, 0], dtype=np.uint16)]


def items_of(dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """Deterministic items of ``dtype`` as raw voids of its size, in an array of ``shape``."""
    count = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = (np.arange(count, dtype=np.uint64) * 2654435761 >> 13).astype(np.uint8)
    base = dtype.base
    if base.kind == "b":
        raw &= 1
    elif base.kind == "M":
        raw[7::8] = 0  # keep datetimes well away from NaT
    elif base.kind == "U":
        raw = np.where(np.arange(count) % 4 == 0, 65 + raw % 26, 0).astype(np.uint8)
    elif base.kind in "fc":
        top = 0 if base.byteorder == ">" else base.itemsize // (2 if base.kind == "c" else 1) - 1
        raw[top :: base.itemsize // (2 if base.kind == "c" else 1)] &= 0x3F  # no NaN or inf
    return raw.view(np.dtype((np.void, dtype.itemsize))).reshape(shape)


def values_of(items: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The array a file of ``items`` holds as ``dtype`` (a subarray dtype adds its dimensions)."""
    return np.frombuffer(items.tobytes(), dtype=dtype).reshape(items.shape + dtype.shape)


def same(got, expected) -> bool:
    got, expected = np.asarray(got), np.asarray(expected)
    return got.dtype == expected.dtype and got.shape == expected.shape and got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_take_equals_numpy(tmp_path, dtype, shape, order):
    items = items_of(dtype, shape)
    path = tmp_path / "values.bin"
    path.write_bytes(items.tobytes(order=order))  # items in `order`, each a C-ordered block
    mm = mmap_array.MemoryMappedArray(path, dtype=dtype, shape=shape, order=order)
    arr = mm.get_array()
    assert same(arr.copy(order="C"), values_of(items, dtype))
    ndim = max(arr.ndim, 1)
    for axis in range(-ndim, ndim):
        size = (arr.shape or (1,))[axis]
        for indices in INDEX_SETS:
            flat = np.asarray(indices).ravel()
            if size == 0 and flat.size > 0:
                with pytest.raises(IndexError):
                    mm.take(indices, axis=axis)
                continue
            if flat.size and (flat.astype(np.int64) >= size).any():
                continue
            expected = np.take(arr, indices, axis=axis)
            got = mm.take(indices, axis=axis)
            assert same(got, expected), (axis, indices)
            assert type(got) is type(expected), (axis, indices)
            if isinstance(got, np.ndarray):
                assert got.flags.c_contiguous and got.flags.writeable and got.base is None


def test_take_from_an_npy_file_with_threads(tmp_path):
    values = np.random.default_rng(5).random((50_000, 8)).astype(np.float32)
    np.save(tmp_path / "v.npy", values)
    mm = mmap_array.open(tmp_path / "v.npy")
    indices = np.random.default_rng(6).integers(-50_000, 50_000, size=(300, 70))
    one = mm.take(indices, threads=1)
    assert same(one, values[indices])
    assert same(mm.take(indices, threads=4), one)
    assert same(mm.take(indices), one)
    assert same(mm.take(indices[:, 0], axis=0, threads=2), values[indices[:, 0]])


@pytest.mark.parametrize("layout", ["raw", "offset", "npy"])
@pytest.mark.parametrize("mode", ["r", "r+", "c"])
def test_take_of_a_file_written_in_small_pieces_equals_numpy(tmp_path, mode, layout):
    # Written a page at a time, the file sits in the page cache in small folios (on ext4),
    # and take may read warm rows with pread instead of faulting them in (row_reads.hpp;
    # the C++ tests force each path). Whichever it takes, the rows must be the mapping's:
    # at the array's offset in the file, and with the handle's own changes, unflushed ("r+")
    # or private ("c"), which only the mapping holds.
    values = np.random.default_rng(11).integers(0, 2**63, size=(4096, 512), dtype=np.uint64)
    path = tmp_path / "pieces.bin"
    lead = {"raw": b"", "offset": b"x" * 24, "npy": b""}[layout]
    if layout == "npy":
        path = tmp_path / "pieces.npy"
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(values))
        lead = header.getvalue()
    with open(path, "wb") as file:
        file.write(lead)
        for row in values:
            file.write(row.tobytes())
    rng = np.random.default_rng(12)
    for indices in (rng.integers(-4096, 4096, size=3000), np.arange(100, 1900), np.r_[0:600, 8, 8, -1, 3000:3600]):
        if layout == "npy":
            mm = mmap_array.open(path, mode=mode)
        else:
            mm = mmap_array.MemoryMappedArray(path, dtype=np.uint64, mode=mode, shape=values.shape, offset=len(lead))
        expected = values.copy()
        if mode != "r":
            mm.get_array()[8] = expected[8] = 7  # row 8: in the last index set
        assert same(mm.take(indices), expected[indices])
        assert same(mm.take(indices, threads=1), expected[indices])
        mm.close()


def _read_calls() -> int:
    with open("/proc/self/io") as io_counters:
        return next(int(line.split()[1]) for line in io_counters if line.startswith("syscr:"))


def test_take_reads_rows_through_the_absolute_name_after_a_chdir(tmp_path, monkeypatch):
    # take may read warm rows with pread through the file's name (row_reads.hpp); the name a
    # handle was opened with may be relative, and no longer name the file after a chdir.
    rows = np.arange(4096 * 512, dtype=np.uint64).reshape(4096, 512)
    with open(tmp_path / "rows.bin", "wb") as file:
        for row in rows:  # a page at a time: the page cache holds it in small folios (ext4)
            file.write(row.tobytes())
    spread = np.arange(0, 4096, 4)
    control = mmap_array.MemoryMappedArray(tmp_path / "rows.bin", dtype=np.uint64, shape=rows.shape)
    before = _read_calls()
    assert same(control.take(spread), rows[spread])
    if _read_calls() - before < len(spread):
        pytest.skip("this page cache holds the file so that faults map many rows: take reads none")
    monkeypatch.chdir(tmp_path)
    mm = mmap_array.MemoryMappedArray("rows.bin", dtype=np.uint64, shape=rows.shape)
    (tmp_path / "elsewhere").mkdir()
    os.chdir(tmp_path / "elsewhere")
    before = _read_calls()
    assert same(mm.take(spread), rows[spread])
    assert _read_calls() - before >= len(spread)


def test_take_of_a_cold_file_equals_a_warm_one(disk):
    path = disk / "rows.npy"
    values = np.random.default_rng(8).integers(0, 2**63, size=(20_000, 512), dtype=np.uint64)
    np.save(path, values)
    evict(path)
    mm = mmap_array.open(path)
    indices = np.random.default_rng(9).integers(0, 20_000, size=2_000)
    assert page_cache_fraction(path) < 0.5
    cold = mm.take(indices)
    assert same(cold, values[indices])
    assert same(mm.take(indices), cold)


# --- take: errors and out ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "dtype"), [(10, np.int64), (-11, np.int64), (2**62, np.int64), (2**64 - 1, np.uint64), (10, np.uint8)]
)
def test_out_of_range_indices_are_index_error_and_out_stays_untouched(matrix, bad, dtype):
    mm, _ = matrix
    out = np.full((2, 4), -7.0)
    with pytest.raises(IndexError) as caught:
        mm.take(np.array([1, bad], dtype=dtype), out=out)
    message = str(caught.value)
    assert f"index {int(bad)} is out of bounds for axis 0 with size 10" in message
    assert mm.filename in message
    assert (out == -7.0).all()


def test_index_types_numpy_would_refuse_or_misread(matrix):
    mm, values = matrix
    with pytest.raises(TypeError, match="boolean indices are ambiguous"):
        mm.take(np.array([True, False]))
    with pytest.raises(TypeError, match="indices must be integers, not float64"):
        mm.take([1.0, 2.0])
    with pytest.raises(TypeError, match="indices must be integers, not <U1"):
        mm.take(["a"])
    assert same(mm.take(np.array([], dtype=np.float64)), values[[]])  # as np.take allows
    assert same(mm.take(np.array([3], dtype=">i2")), values[[3]])  # any integer type and order


def test_axis_errors(matrix):
    mm, _ = matrix
    for axis in (2, -3):
        with pytest.raises(np.exceptions.AxisError) as caught:
            mm.take([0], axis=axis)
        assert isinstance(caught.value, ValueError) and isinstance(caught.value, IndexError)
        assert mm.filename in str(caught.value)
    with pytest.raises(TypeError, match="does not flatten"):
        mm.take([0], axis=None)
    with pytest.raises(TypeError, match="axis must be an integer"):
        mm.take([0], axis=1.0)


def test_take_into_out(matrix):
    mm, values = matrix
    out = np.empty((3, 4))
    assert mm.take([2, 0, 9], out=out) is out
    assert same(out, values[[2, 0, 9]])
    # A non-contiguous out is filled through a temporary.
    wide = np.zeros((3, 8))
    view = wide[:, ::2]
    assert mm.take([1, 1, 1], out=view) is view
    assert same(wide[:, ::2], values[[1, 1, 1]]) and (wide[:, 1::2] == 0).all()
    assert same(mm.take([[0]], axis=1, out=np.empty((10, 1, 1))), values[:, [[0]]])


@pytest.mark.parametrize(
    ("out", "error", "message"),
    [
        (np.empty((2, 4)), ValueError, r"out has shape \(2, 4\); the result has shape \(3, 4\)"),
        (np.empty((3, 4), np.float32), ValueError, "out has dtype float32; the array's is float64"),
        (np.empty((3, 4), ">f8"), ValueError, "out has dtype"),
        ([[0.0] * 4] * 3, TypeError, "out must be a numpy.ndarray, not list"),
    ],
)
def test_a_wrong_out_is_refused(matrix, out, error, message):
    mm, _ = matrix
    with pytest.raises(error, match=message):
        mm.take([0, 1, 2], out=out)


def test_a_read_only_out_is_refused(matrix):
    mm, _ = matrix
    out = np.empty((1, 4))
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        mm.take([0], out=out)


def test_take_into_the_mapped_array_itself(tmp_path):
    values = np.arange(40.0).reshape(10, 4)
    path = tmp_path / "rw.bin"
    values.tofile(path)
    mm = mmap_array.MemoryMappedArray(path, shape=(10, 4), mode="r+")
    arr = mm.get_array()
    result = mm.take([9, 8, 7], out=arr[:3])  # reads rows it overwrites: buffered, as NumPy does
    assert same(result, values[[9, 8, 7]])
    assert same(arr[3:], values[3:])


def test_take_threads_argument(matrix):
    mm, values = matrix
    with pytest.raises(ValueError, match="threads must be between 1 and 1024"):
        mm.take([0], threads=0)
    assert same(mm.take([0, 5], threads=7), values[[0, 5]])


# --- truncation ----------------------------------------------------------------------------

TRUNCATED = """
import errno, os
import numpy as np
import mmap_array
np.arange(64 * {page} // 8, dtype=np.float64).tofile("data.bin")
mm = mmap_array.MemoryMappedArray("data.bin", shape=(64, {page} // 8))
os.truncate("data.bin", 8 * {page})
try:
    {call}
except mmap_array.FileTruncatedError as error:
    assert error.errno == errno.EFAULT and error.filename == "data.bin", (error.errno, error.filename)
    print("raised")
for step in range(3):  # no second, late FileTruncatedError from the fault guard's notifier
    len(str(step))
for again in (mm.populate, mm.get_array, lambda: mm.take([0])):
    try:
        again()
    except mmap_array.FileTruncatedError:
        pass
    else:
        raise AssertionError("a poisoned handle answered")
print("alive")
"""


@pytest.mark.parametrize(
    "call",
    ["mm.populate()", "mm.populate(threads=4)", "mm.take([3, 40])", "mm.take([40], threads=2)",
     "mm.take([[1], [2]], axis=1)"],
)
def test_a_shrunk_file_is_file_truncated_error_not_a_crash(tmp_path, call):
    result = run_python(TRUNCATED.format(page=PAGE, call=call), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["raised", "alive"], result.stdout + result.stderr


# --- containers ----------------------------------------------------------------------------


@pytest.fixture(params=["safetensors", "npz"])
def container(request, tmp_path):
    tensors = {"a": np.arange(5000, dtype=np.float32), "b": np.ones((30, 30))}
    if request.param == "safetensors":
        path = tmp_path / "m.safetensors"
        mmap_array.save_safetensors(path, tensors)
        return mmap_array.open_safetensors(path)
    path = tmp_path / "m.npz"
    np.savez(path, **tensors)
    return mmap_array.open_npz(path)


def test_container_access_over_the_whole_mapping_and_one_array(container):
    for advice in ADVICE[:5]:
        container.advise(advice)
        container.advise(advice, "a")
    container.prefetch()
    container.prefetch("b")
    container.populate()
    container.populate("a", threads=2)
    assert container.residency() == 1.0
    assert container.residency("b") == 1.0
    assert container.residency_map(5).shape == (5,)
    assert container.residency_map(3, "a").tolist() == [1.0, 1.0, 1.0]
    assert container.page_info()["vmas"] >= 1


def test_container_access_errors(container, tmp_path):
    with pytest.raises(KeyError):
        container.populate("missing")
    with pytest.raises(ValueError, match="unknown advice 'fast'"):
        container.advise("fast")
    with pytest.raises(ValueError, match="threads must be between"):
        container.populate(threads=0)
    with pytest.raises(ValueError, match="bins must be"):
        container.residency_map(0)
    container.close()
    for call in (container.residency, container.populate, container.page_info, lambda: container.advise("random")):
        with pytest.raises(ValueError, match="closed"):
            call()


def test_a_compressed_member_has_no_pages(tmp_path):
    np.savez_compressed(tmp_path / "c.npz", z=np.arange(1000))
    with mmap_array.open_npz(tmp_path / "c.npz") as archive:
        with pytest.raises(mmap_array.FormatError, match="compressed"):
            archive.residency("z")
        assert archive.residency() == 1.0


def test_a_cold_container_becomes_resident(disk):
    path = disk / "m.safetensors"
    mmap_array.save_safetensors(path, {"w": np.random.default_rng(1).random((1024, 1024))})
    evict(path)
    with mmap_array.open_safetensors(path) as weights:
        assert weights.residency() < 0.5
        weights.populate()
        assert weights.residency() == 1.0


# --- the CLI -------------------------------------------------------------------------------


def test_info_shows_how_much_is_in_memory(disk):
    path = disk / "a.npy"
    np.save(path, np.zeros((256, 1024)))
    evict(path)
    result = run_python(f"import sys; from mmap_array._cli import main; sys.exit(main(['info', {str(path)!r}]))")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith(" in memory") and " 100.0% in memory" not in lines[0], lines[0]
    mmap_array.open(path).populate()
    result = run_python(f"import sys; from mmap_array._cli import main; sys.exit(main(['info', {str(path)!r}]))")
    assert result.stdout.splitlines()[0].endswith(", 100.0% in memory")
    assert result.stdout.splitlines()[-1].split()[-1] == "100.0%"


# --- huge pages for new files ----------------------------------------------------------------


@pytest.mark.parametrize("format", ["raw", "npy"])
def test_a_created_file_of_2_mib_or_more_is_filled_in_huge_pages_unless_advised_otherwise(tmp_path, format):
    big = mmap_array.create(tmp_path / f"big.{format}", (4 << 20,), "u1", format=format)
    small = mmap_array.create(tmp_path / f"small.{format}", (1 << 20,), "u1", format=format)
    huge_pages = big.page_info()["huge_page_size"] > 0
    assert big.page_info()["hugepage_advised"] == huge_pages
    assert not small.page_info()["hugepage_advised"]  # no huge page fits in it
    big.advise("nohugepage")
    assert not big.page_info()["hugepage_advised"]
    big.get_array()[::4096] = 7
    big.flush()
    written = np.load(big.filename) if format == "npy" else np.fromfile(big.filename, np.uint8)
    assert np.count_nonzero(written) == (4 << 20) // 4096
    # Mode "w+" creates a file the same way.
    w = mmap_array.MemoryMappedArray(tmp_path / "w.bin", dtype="u1", mode="w+", shape=(4 << 20,))
    assert w.page_info()["hugepage_advised"] == huge_pages
