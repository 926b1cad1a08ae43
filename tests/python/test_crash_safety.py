"""Writers killed with SIGKILL at random moments lose nothing and leave nothing.

A driver process forks writer children that save complete, recognisable
versions of one file in a loop, and kills each after a random delay: during
the write, between naming and renaming, after the commit. After every kill the
target must be exactly one complete version (the old one or one the child
wrote), read back by NumPy or the safetensors package rather than by us; and
after the next successful save, the directory holds the target alone.
"""

from __future__ import annotations

import json

import pytest

from conftest import run_python

KILL_DRIVER = r"""
import json, os, random, signal, sys, time
from pathlib import Path

import numpy as np
import safetensors.numpy

import mmap_array

kind, directory, kills, seed = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
random.seed(seed)
ITEMS = 1 << 19  # 4 MiB per version: long enough that many kills land mid-write
target = directory / {"raw": "data.bin", "npy": "data.npy", "safetensors": "data.safetensors"}[kind]


def save(version):
    values = np.full(ITEMS, float(version))
    if kind == "raw":
        mmap_array.write_binary(str(target), values)
    elif kind == "npy":
        mmap_array.save(target, values, fsync=version % 2 == 0)
    else:
        mmap_array.save_safetensors(target, {"values": values}, metadata={"version": str(version)})


def version_on_disk():
    # Read by independent readers; any torn or partial file fails here.
    if kind == "raw":
        assert target.stat().st_size == ITEMS * 8, target.stat().st_size
        values = np.fromfile(target, dtype=np.float64)
    elif kind == "npy":
        values = np.load(target)
    else:
        values = safetensors.numpy.load_file(target)["values"]
    assert values.shape == (ITEMS,), values.shape
    version = values[0]
    assert (values == version).all(), "mixed versions in one file"
    return int(version)


save(1)
expected = 1
outcomes = {"old": 0, "new": 0, "leftovers_seen": 0}
for child_number in range(1, kills + 1):
    base = child_number * 1000
    pid = os.fork()
    if pid == 0:
        try:
            version = base
            while True:
                version += 1
                save(version)
        finally:
            os._exit(3)  # only an error ends the loop; a kill is the expected end
    time.sleep(random.uniform(0, 0.025))
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"writer ended with {status}"

    found = version_on_disk()
    if found == expected:
        outcomes["old"] += 1
    else:
        assert base < found < base + 1000, f"version {found} is neither {expected} nor one of child {child_number}"
        outcomes["new"] += 1
    if sorted(os.listdir(directory)) != [target.name]:
        outcomes["leftovers_seen"] += 1

    expected = base + 999
    save(expected)
    assert version_on_disk() == expected
    left = sorted(os.listdir(directory))
    assert left == [target.name], f"after a successful save: {left}"
print(json.dumps(outcomes))
"""


def run_kills(tmp_path, kind: str, kills: int) -> dict:
    directory = tmp_path / "target"
    directory.mkdir()
    driver = tmp_path / "kill_driver.py"
    driver.write_text(KILL_DRIVER)
    result = run_python(
        f"import runpy, sys; sys.argv = ['kill_driver', {kind!r}, {str(directory)!r}, '{kills}', '{kills}']; "
        f"runpy.run_path({str(driver)!r}, run_name='__main__')",
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcomes = json.loads(result.stdout.strip().splitlines()[-1])
    # Both outcomes must occur, or the kills did not land at random moments of a write.
    assert outcomes["old"] > 0 and outcomes["new"] > 0, outcomes
    return outcomes


@pytest.mark.parametrize("kind", ["raw", "npy", "safetensors"])
def test_writers_killed_at_random_moments_leave_a_complete_file_and_no_temporary(tmp_path, kind):
    run_kills(tmp_path, kind, kills=200)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["raw", "npy", "safetensors"])
def test_thousands_of_killed_writers_leave_a_complete_file_and_no_temporary(tmp_path, kind):
    run_kills(tmp_path, kind, kills=3000)
