"""What the libraries users switch from do in the scenarios of docs/reliability.md.

The reliability table puts our behaviour next to numpy.memmap's, np.load's and
safetensors'. These tests run the same scenarios with those libraries, so the
table's claims about them are checked on every run: if one of them fixes its
behaviour, a test here fails and the table must be updated.
"""

from __future__ import annotations

import json
import signal

import pytest

from conftest import run_python, run_on_small_filesystem

TRUNCATE_UNDER = """
import os
import numpy as np
np.arange(3 * 4096 // 8, dtype=np.float64).tofile("data.bin")
np.save("data.npy", np.arange(3 * 4096 // 8, dtype=np.float64))
import safetensors.numpy
safetensors.numpy.save_file({{"x": np.arange(3 * 4096 // 8, dtype=np.float64)}}, "data.safetensors")
{open}
os.truncate({path!r}, 0)
{touch}
print("survived")
"""

ANCHORS = {
    "numpy.memmap r": ("arr = np.memmap('data.bin', dtype=np.float64, mode='r')", "data.bin", "float(arr[-1])"),
    "numpy.memmap r+": ("arr = np.memmap('data.bin', dtype=np.float64, mode='r+')", "data.bin", "arr[-1] = 1.0"),
    "numpy.memmap c": ("arr = np.memmap('data.bin', dtype=np.float64, mode='c')", "data.bin", "float(arr[-1])"),
    "np.load mmap_mode=r": ("arr = np.load('data.npy', mmap_mode='r')", "data.npy", "float(arr[-1])"),
    "safetensors safe_open": (
        "from safetensors import safe_open\nf = safe_open('data.safetensors', framework='np')",
        "data.safetensors",
        "f.get_tensor('x')",
    ),
}


@pytest.mark.parametrize("anchor", sorted(ANCHORS))
def test_the_anchors_die_with_sigbus_when_a_mapped_file_is_truncated(tmp_path, anchor):
    opening, path, touch = ANCHORS[anchor]
    result = run_python(TRUNCATE_UNDER.format(open=opening, path=path, touch=touch), cwd=tmp_path)
    assert result.returncode == -signal.SIGBUS, (result.returncode, result.stderr[-2000:])
    assert "survived" not in result.stdout


def test_numpy_memmap_dies_with_sigbus_writing_a_sparse_file_on_a_full_disk():
    result = run_on_small_filesystem(
        """
        import sys
        import numpy as np
        arr = np.memmap(sys.argv[1] + "/big.bin", dtype=np.uint8, mode="w+", shape=(4 << 20,))
        print("created")
        arr[:] = 1
        print("survived")
        """,
        size="1m",
    )
    assert result.returncode == -signal.SIGBUS, (result.returncode, result.stderr[-2000:])
    assert result.stdout.split() == ["created"]


KILLED_WRITER = r"""
import json, os, random, signal, sys, time
import numpy as np
import safetensors.numpy

kind = sys.argv[1]
values = np.ones(1 << 22)  # 32 MiB
random.seed(5)
path = "data.npy" if kind == "np.save" else "data.safetensors"


def save():
    if kind == "np.save":
        np.save(path, values)
    else:
        safetensors.numpy.save_file({"x": values}, path)


save()  # a complete file exists before the first kill
torn = 0
for _ in range(20):
    pid = os.fork()
    if pid == 0:
        while True:
            save()
    time.sleep(random.uniform(0.005, 0.05))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    try:
        loaded = np.load(path) if kind == "np.save" else safetensors.numpy.load_file(path)["x"]
        torn += loaded.shape != values.shape
    except Exception:
        torn += 1
leftovers = [name for name in os.listdir(".") if name not in (path, "driver.py")]
print(json.dumps({"torn": torn, "leftovers": len(leftovers)}))
"""


def run_killed_writers(tmp_path, writer: str) -> dict:
    driver = tmp_path / "driver.py"
    driver.write_text(KILLED_WRITER)
    result = run_python(
        f"import runpy, sys; sys.argv = ['driver', {writer!r}]; runpy.run_path({str(driver)!r}, run_name='__main__')",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_np_save_leaves_a_torn_file_when_its_writer_is_killed(tmp_path):
    outcome = run_killed_writers(tmp_path, "np.save")
    assert outcome["torn"] > 0, f"no kill out of 20 tore the file: np.save became atomic? {outcome}"


def test_safetensors_save_file_is_atomic_but_leaves_its_temporaries_when_killed(tmp_path):
    # safetensors (0.6 and later) writes a `.tmpXXXXXX` file and renames it: the target is
    # never torn, but a killed writer's temporary stays forever, unrecognisable.
    outcome = run_killed_writers(tmp_path, "safetensors.save_file")
    assert outcome["torn"] == 0, outcome
    assert outcome["leftovers"] > 0, f"no kill out of 20 left a temporary: {outcome}"
