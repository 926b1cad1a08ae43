"""``mmap-array bench``: the report, the plot, the statistics and the cold-cache proof.

No timing claim lives here: the tests check that every metric and anchor is
measured and reported, that ratios come from medians, and that a cold file is
proven cold, never how fast anything is.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from mmap_array import _core
from mmap_array._bench import cache, iocount, system
from mmap_array._bench.command import find_repository
from mmap_array._bench.harness import (
    ANCHOR,
    OURS,
    Contestant,
    Measurement,
    Unmeasurable,
    round_orders,
    run_round_robin,
    timed,
)
from mmap_array._bench.metric import run_metric
from mmap_array._bench.metrics import METRICS
from mmap_array._bench.report import format_ratio, format_seconds, format_verdict
from mmap_array._bench.stats import Target, evaluate, ratio, summarize

# Every anchor the suite promises, and the module it needs (None: NumPy, stdlib or our C++).
ANCHORS = {
    "numpy.memmap": None,
    "np.load(mmap_mode='r')": None,
    "np.fromfile": None,
    "mmap + frombuffer": None,
    "pyarrow.memory_map": "pyarrow",
    "safe_open + get_tensor": "safetensors",
    "safetensors.numpy.load_file": "safetensors",
    "torch.from_file": "torch",
    "syscall floor": None,
    "memory bandwidth": None,
    "O_DIRECT read": None,
    "O_DIRECT gather": None,
    "in-RAM array": None,
    "ndarray.tofile": None,
    "numpy.memmap(w+)": None,
}

_NO_EVICTION = {"tmpfs", "ramfs", "devtmpfs", "hugetlbfs"}


@pytest.fixture(scope="module")
def disk_dir(tmp_path_factory):
    """A directory on a filesystem with a backing device, where pages can be evicted."""
    own = tmp_path_factory.mktemp("disk")
    if system.mount_of(str(own)).get("fstype") not in _NO_EVICTION:
        yield own
        return
    if system.mount_of("/var/tmp").get("fstype") in _NO_EVICTION or not os.access("/var/tmp", os.W_OK):
        pytest.skip("neither the test's temporary directory nor /var/tmp is on a disk-backed filesystem")
    directory = Path(tempfile.mkdtemp(prefix="mmap_array-test-bench-", dir="/var/tmp"))
    yield directory
    shutil.rmtree(directory)


def _installed(module: str | None) -> bool:
    return module is None or importlib.util.find_spec(module) is not None


def _rows(report: str) -> list[tuple[str, str, list[str]]]:
    """(metric key, contestant, cells) of every contestant row of the metric tables."""
    rows, key = [], None
    for line in report.splitlines():
        if line.startswith('<a id="'):
            key = line.split('"')[1]
        elif key is not None and line.startswith("| ") and not line.startswith("| contestant"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            name = cells[0].replace(" (floor)", "").strip("*")
            rows.append((key, name, cells))
    return rows


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, disk_dir) -> tuple[subprocess.CompletedProcess, Path, Path]:
    out = tmp_path_factory.mktemp("report")
    files = disk_dir
    report, plot = out / "benchmarks.md", out / "benchmarks.png"
    done = subprocess.run(
        [sys.executable, "-m", "mmap_array", "bench", "--quick", "--dir", str(files),
         "--output", str(report), "--plot", str(plot)],
        check=False, capture_output=True, text=True, timeout=300, cwd=out,
    )
    return done, report, plot


def test_quick_run_writes_the_report_and_the_plot(quick_run):
    done, report, plot = quick_run
    assert done.returncode == 0, done.stderr
    assert report.read_text().startswith("# Benchmarks\n")
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "(benchmarks.png)" in report.read_text()


def test_the_report_has_every_metric_target_and_machine_fact(quick_run):
    _, report, _ = quick_run
    text = report.read_text()
    for key in METRICS:
        assert f'<a id="{key}"></a>' in text
    for fact in ("CPU", "RAM", "kernel", "filesystem", "transparent huge pages", "Python", "NumPy",
                 "mmap_array", "date", "device readahead"):
        assert f"| {fact} |" in text
    assert "Quick run" in text
    # Every target of the brief is listed with a verdict.
    for target in ("0.5x numpy.memmap", "1.5x the syscall floor", "0.1x np.load", "0.2x safe_open",
                   "1.05x the same pass", "0.67x numpy.memmap", "1.0x np.fromfile", "4x faster than fancy",
                   "1.1x fancy indexing", "1.0x ndarray.tofile", "0.6x the numpy.memmap", "150 ns"):
        assert target in text
    assert "failed:" not in text


def test_every_anchor_is_measured_when_its_library_is_installed(quick_run):
    _, report, _ = quick_run
    rows = _rows(report.read_text())
    for anchor, module in ANCHORS.items():
        found = [cells for _, name, cells in rows if name == anchor]
        assert found, f"{anchor} is missing from the report"
        for cells in found:
            if _installed(module):
                assert cells[2] != "—", f"{anchor} was not measured: {cells}"
            else:
                assert cells[2] == "—"
    # Read amplification is reported for the cold metrics, as numbers.
    cold = [cells for key, name, cells in rows if key == "cold_gather" and name == "numpy.memmap"]
    assert cold and float(cold[0][-1]) >= 1.0


def test_ours_is_measured_in_every_metric(quick_run):
    _, report, _ = quick_run
    ours = [(key, name, cells) for key, name, cells in _rows(report.read_text()) if name.startswith("ours")]
    assert {key for key, _, _ in ours} == set(METRICS)
    for key, name, cells in ours:
        assert cells[2] != "—", f"{name} was not measured in {key}"


def test_statistics_ratio_is_of_medians_not_median_of_ratios():
    ours = summarize([1.0, 2.0, 9.0])
    other = summarize([4.0, 1.0, 8.0])
    assert ours.median == 2.0 and other.median == 4.0
    # Paired per-repetition ratios would give median(1/4, 2/1, 9/8) = 1.125.
    assert ratio(ours, other) == 0.5
    assert summarize([5.0]).low == summarize([5.0]).high == 5.0
    spread = summarize([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (spread.low, spread.median, spread.high) == (2.0, 3.0, 4.0)
    with pytest.raises(ValueError):
        summarize([])
    with pytest.raises(ValueError):
        summarize([1.0, float("nan")])


def test_targets_are_judged_from_the_medians():
    summaries = {"ours": summarize([1.0, 3.0, 2.0]), "memmap": summarize([5.0, 4.0, 3.0])}
    met = evaluate(Target("ours", 0.5, "memmap", "at most 0.5x"), summaries, {})
    assert met.value == 0.5 and met.met is True and met.margin == 1.0
    missed = evaluate(Target("ours", 0.4, "memmap", "at most 0.4x"), summaries, {})
    assert missed.met is False and missed.margin == pytest.approx(1.25)
    assert format_verdict(missed) == "**missed** (1.25x the limit)"
    absolute = evaluate(Target("ours", 1.5, None, "at most 1.5 s"), summaries, {})
    assert absolute.value == 2.0 and absolute.met is False
    pending = evaluate(Target("take", 0.25, "memmap", "4x"), summaries, {"take": "pending: not merged"})
    assert pending.met is None and pending.value is None and pending.reason == "pending: not merged"


def test_formatting_keeps_three_digits_and_moves_units():
    assert format_seconds(8.1e-6) == "8.10 µs"
    assert format_seconds(92.34e-9) == "92.3 ns"
    assert format_seconds(0.9999e-3) == "1.00 ms"
    assert format_seconds(12.5) == "12.5 s"
    assert format_ratio(0.04213) == "0.0421x"
    assert format_ratio(170.2) == "170x"


def test_round_robin_interleaves_shuffles_and_drops_warmup():
    calls: list[str] = []

    def recorder(key: str):
        def measure() -> Measurement:
            calls.append(key)
            return Measurement(float(len(calls)))

        return measure

    contestants = [Contestant(k, k, ANCHOR, recorder(k)) for k in "abc"]
    samples = run_round_robin(contestants, 3, warmup=1)
    rounds = [calls[i:i + 3] for i in range(0, len(calls), 3)]
    assert len(rounds) == 4 and all(sorted(r) == ["a", "b", "c"] for r in rounds)
    assert orders_of(rounds) == [[ord(k) - ord("a") for k in r] for r in rounds]
    assert {k: len(v) for k, v in samples.seconds.items()} == {"a": 3, "b": 3, "c": 3}
    # The warm-up round (the first three calls) is not recorded.
    assert min(min(v) for v in samples.seconds.values()) == 4.0


def orders_of(rounds: list[list[str]]) -> list[list[int]]:
    """The orders run_round_robin should have used for these rounds (warm-up included)."""
    return round_orders(3, len(rounds))


def test_round_orders_give_every_contestant_every_predecessor_about_equally():
    # A contestant inherits its predecessor's cache footprint: rotating one list kept the
    # same predecessor for a contestant in all but one round of the cycle.
    count, rounds = 5, 400
    sequence = [c for order in round_orders(count, rounds) for c in order]
    follows = Counter(zip(sequence, sequence[1:]))
    pairs = [(a, b) for a in range(count) for b in range(count) if a != b]
    # Within a round each of the count - 1 neighbours is one of count * (count - 1) ordered pairs;
    # across a round's boundary any of count * count pairs.
    expected = rounds * (count - 1) / (count * (count - 1)) + (rounds - 1) / (count * count)
    assert all(0.5 * expected < follows[pair] < 1.6 * expected for pair in pairs), follows
    assert all(sorted(order) == list(range(count)) for order in round_orders(count, rounds))
    assert round_orders(count, 3) == round_orders(count, 3)  # seeded: runs schedule alike
    assert round_orders(count, 3, seed=1) != round_orders(count, 3)


def test_contestants_run_apart_come_after_every_round_of_the_others_and_cannot_be_targets():
    calls: list[str] = []

    def recorder(key: str):
        def measure() -> Measurement:
            calls.append(key)
            return Measurement(1.0)

        return measure

    heavy = Contestant("copy", "copy", ANCHOR, recorder("copy"), apart=True)
    light = [Contestant(k, k, ANCHOR, recorder(k)) for k in "ab"]
    samples = run_round_robin([light[0], heavy, light[1]], 4, warmup=1)
    assert sorted(calls[:10]) == ["a"] * 5 + ["b"] * 5 and calls[10:] == ["copy"] * 5
    assert {k: len(v) for k, v in samples.seconds.items()} == {"a": 4, "copy": 4, "b": 4}
    with pytest.raises(ValueError, match="runs apart"):
        run_metric("k", "t", "w", [light[0], heavy], [Target("a", 1.0, "copy", "at most 1x copy")], 1)


def test_a_failing_anchor_is_dropped_and_an_unmeasurable_metric_keeps_no_numbers():
    def broken() -> Measurement:
        raise RuntimeError("no such thing")

    ok = Contestant("ours", "ours", OURS, lambda: Measurement(1.0))
    samples = run_round_robin([ok, Contestant("x", "x", ANCHOR, broken)], 2)
    assert samples.failed == {"x": "RuntimeError: no such thing"} and len(samples.seconds["ours"]) == 2

    def refuse() -> None:
        raise Unmeasurable("cannot evict here")

    cold = Contestant("ours", "ours", OURS, timed(lambda: 1, before=refuse))
    result = run_metric("k", "title", "what", [cold], [Target("ours", 1.0, None, "t")], 3)
    assert result.unmeasurable == "cannot evict here"
    assert result.summaries == {} and result.verdicts[0].met is None


def test_make_cold_evicts_a_real_disk_file_and_proves_it(disk_dir):
    path = disk_dir / "cold.bin"
    path.write_bytes(os.urandom(4 << 20))
    resident, total = cache.make_warm(str(path))
    assert resident == total == (4 << 20) // os.sysconf("SC_PAGESIZE")
    cache.make_cold(str(path))
    assert cache.residency(str(path)) == (0, total)
    # Reading it again fetches it from the device, and /proc/self/io counts those bytes.
    before = iocount.device_read_bytes()
    cache.make_warm(str(path))
    if before is not None:
        assert iocount.device_read_bytes() - before >= 4 << 20
    # Read in by populate() instead, from the device again.
    assert cache.make_warm(str(path), reload=True, populate=True) == (total, total)
    if before is not None:
        assert iocount.device_read_bytes() - before >= 8 << 20


def test_make_cold_refuses_when_pages_cannot_be_dropped(disk_dir):
    path = disk_dir / "mapped.bin"
    path.write_bytes(os.urandom(1 << 20))
    # The kernel never drops pages that a mapping still holds: the proof must notice.
    held = np.memmap(path, np.uint8, mode="r")
    assert int(held.sum(dtype=np.uint64)) > 0
    with pytest.raises(cache.EvictionFailed, match="stay in the page cache"):
        cache.make_cold(str(path), attempts=1)
    del held
    cache.make_cold(str(path))


def test_make_cold_refuses_tmpfs():
    shm = Path("/dev/shm")
    if not shm.is_dir() or system.mount_of(str(shm)).get("fstype") != "tmpfs" or not os.access(shm, os.W_OK):
        pytest.skip("no writable tmpfs at /dev/shm")
    path = shm / f"mmap_array-bench-test-{os.getpid()}"
    try:
        path.write_bytes(os.urandom(1 << 16))
        with pytest.raises(cache.EvictionFailed, match="tmpfs"):
            cache.make_cold(str(path), attempts=1)
    finally:
        path.unlink()


def test_floor_reads_return_checksums_of_the_bytes(disk_dir, tmp_path):
    path = disk_dir / "floor.bin"
    values = np.random.default_rng(1).integers(0, 2**63, 3 * 2**17 + 512, dtype=np.uint64)  # not a block multiple
    values.tofile(path)
    expected = int(values.sum(dtype=np.uint64))
    ns, nbytes, checksum = _core._floor_direct_read(str(path), 3, 1 << 20)
    assert (nbytes, checksum) == (values.nbytes, expected) and ns > 0
    assert _core._floor_sum(values)[1:] == (values.nbytes, expected)
    rows = np.array([2, 0, 5], np.uint64)
    ns, nbytes, checksum = _core._floor_direct_gather(str(path), rows * 4096, 4096, 2)
    picked = values[: 6 * 512].reshape(6, 512)[rows.astype(np.intp)]
    assert (nbytes, checksum) == (3 * 4096, int(picked.sum(dtype=np.uint64)))
    assert _core._floor_open_map(str(path)) > 0
    with pytest.raises(ValueError, match="multiple of 4096"):
        _core._floor_direct_gather(str(path), rows * 4096 + 8, 4096, 2)
    with pytest.raises(ValueError, match="ends past"):
        _core._floor_direct_gather(str(path), np.array([values.nbytes], np.uint64), 4096, 1)
    with pytest.raises(FileNotFoundError):
        _core._floor_open_map(str(tmp_path / "missing"))


def test_machine_description_names_the_filesystem(tmp_path):
    info = system.describe(str(tmp_path))
    assert info["filesystem"].startswith(system.mount_of(str(tmp_path))["fstype"] + " on ")
    assert info["NumPy"] == np.__version__
    assert "logical cores" in info["CPU"]


def test_cli_refuses_unknown_metrics_and_can_write_to_stdout(tmp_path):
    bad = subprocess.run([sys.executable, "-m", "mmap_array", "bench", "--only", "nope", "--output", "-"],
                         check=False, capture_output=True, text=True)
    assert bad.returncode == 1 and "--only takes metrics among open_raw" in bad.stderr
    done = subprocess.run(
        [sys.executable, "-m", "mmap_array", "bench", "--quick", "--only", "property_read", "--output", "-",
         "--dir", str(tmp_path)],
        check=False, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# Benchmarks\n") and '<a id="property_read"></a>' in done.stdout
    assert os.listdir(tmp_path) == []  # the run removed every file it wrote


def test_default_output_is_the_checkout_docs(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "mmap_array"\n')
    (tmp_path / "sub").mkdir()
    assert find_repository(str(tmp_path / "sub")) == str(tmp_path)
    other = tmp_path / "sub" / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "something_else"\n')
    assert find_repository(str(other)) == str(tmp_path)


# --- the standalone scripts of bench/ -----------------------------------------------------

_BENCH_FOLDER = Path(__file__).resolve().parents[2] / "bench"

# Each at a size that runs in about a second; each script checks its own results (sums,
# gathered rows, arrays) and exits non-zero when one is wrong.
_BENCH_SCRIPT_ARGUMENTS = {
    "cold_pass_breakdown.py": ["--mb", "4", "--repeat", "2"],
    "grow.py": ["--mb", "4", "--repeat", "1", "--appends", "100"],
    "open_breakdown.py": ["--mb", "4", "--repeat", "3"],
    "save_into_large_directory.py": ["--entries", "0,300", "--repeat", "3"],
    "take_cold.py": ["--gib", "0.01", "--rows", "200", "--repeat", "1"],
    "take_warm_folios.py": ["--gib", "0.01", "--rows", "200", "--repeat", "1"],
    "warm_pass_breakdown.py": ["--mb", "4", "--repeat", "1"],
}


def test_every_bench_script_is_run_below():
    assert sorted(path.name for path in _BENCH_FOLDER.glob("*.py")) == sorted(_BENCH_SCRIPT_ARGUMENTS)


@pytest.mark.parametrize("script", sorted(_BENCH_SCRIPT_ARGUMENTS))
def test_bench_script_runs_at_a_small_size(script, disk_dir):
    # The scripts evict files from the page cache, so they need a disk-backed directory.
    directory = disk_dir / script.removesuffix(".py")
    directory.mkdir()
    result = subprocess.run(
        [sys.executable, str(_BENCH_FOLDER / script), *_BENCH_SCRIPT_ARGUMENTS[script], "--dir", str(directory)],
        check=False, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Every script reports ratios ("0.35x"), and none prints a NaN or an infinity.
    assert re.search(r"\d\.\d+x\b", result.stdout), result.stdout
    assert "nan" not in result.stdout.lower() and "inf" not in result.stdout.lower(), result.stdout
