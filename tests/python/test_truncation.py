"""A file that shrinks under a live mapping never kills the process.

Each scenario runs in a child process, which must survive with the documented
FileTruncatedError (or, for faults that are not ours, die exactly as it would
without mmap_array, with faulthandler's traceback when it is enabled).
"""

from __future__ import annotations

import signal

import pytest

from conftest import run_python

PAGE = 4096
SETUP = """
import errno, faulthandler, os, sys, threading
import numpy as np
BEFORE = "{faulthandler}" == "before"
if BEFORE:
    faulthandler.enable()
import mmap_array
if "{faulthandler}" == "after":
    faulthandler.enable()
np.arange(3 * {page} // 8, dtype=np.float64).tofile("data.bin")
"""


def run_scenario(tmp_path, body: str, faulthandler: str = "none"):
    code = SETUP.format(faulthandler=faulthandler, page=PAGE) + body
    return run_python(code, cwd=tmp_path)


@pytest.mark.parametrize("mode", ["r", "r+", "c"])
@pytest.mark.parametrize("size", [0, PAGE + 100], ids=["to-zero", "to-mid-page"])
@pytest.mark.parametrize("faulthandler", ["none", "before", "after"])
def test_touching_vanished_pages_raises_file_truncated_error_and_survives(tmp_path, mode, size, faulthandler):
    result = run_scenario(
        tmp_path,
        f"""
mm = mmap_array.MemoryMappedArray("data.bin", mode="{mode}")
arr = mm.get_array()
os.truncate("data.bin", {size})
try:
    total = float(arr.sum())
except mmap_array.FileTruncatedError as error:
    assert isinstance(error, OSError) and error.errno == errno.EFAULT, error
    assert error.filename == "data.bin", error.filename
    print("raised")
# the vanished range reads as zeros from then on; what remains is intact
kept = {size} // 8
assert float(arr.sum()) == float(np.arange(kept).sum()), (float(arr.sum()), kept)
assert (arr[kept + 1:] == 0).all()
for call in (mm.get_array, mm.size, mm.flush, lambda: np.asarray(mm)):
    try:
        call()
    except mmap_array.FileTruncatedError:
        pass
    else:
        raise AssertionError("a poisoned handle answered")
print("alive")
""",
        faulthandler,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["raised", "alive"]
    assert "Fatal Python error" not in result.stderr


@pytest.mark.parametrize(
    "touch",
    ["arr[-1]", "arr.copy()", "bytes(memoryview(arr))", "np.asarray(mm).max()", "arr[::512].tolist()", "arr.tobytes()"],
)
def test_every_way_of_touching_is_caught(tmp_path, touch):
    result = run_scenario(
        tmp_path,
        f"""
mm = mmap_array.MemoryMappedArray("data.bin")
arr = mm.get_array()
os.truncate("data.bin", 0)
caught = False
try:
    value = {touch}
    len(str(value))  # a call after the touch: the check the interpreter makes there
except mmap_array.FileTruncatedError:
    caught = True
print("caught" if caught else "late")
""",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["caught"]


@pytest.mark.parametrize("faulthandler", ["before", "after"])
def test_a_real_segfault_elsewhere_still_crashes_with_a_traceback(tmp_path, faulthandler):
    result = run_scenario(
        tmp_path,
        """
import ctypes
mm = mmap_array.MemoryMappedArray("data.bin")
ctypes.string_at(0)
""",
        faulthandler,
    )
    assert result.returncode == -signal.SIGSEGV
    assert "Fatal Python error: Segmentation fault" in result.stderr


@pytest.mark.parametrize("faulthandler", ["none", "before", "after"])
def test_a_bus_error_in_a_mapping_that_is_not_ours_still_crashes(tmp_path, faulthandler):
    result = run_scenario(
        tmp_path,
        """
import mmap
ours = mmap_array.MemoryMappedArray("data.bin").get_array()   # the guard is installed and busy
with open("data.bin", "rb") as f:
    theirs = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
os.truncate("data.bin", 0)
theirs[3 * 4096 - 1]
print("survived?!")
""",
        faulthandler,
    )
    assert result.returncode == -signal.SIGBUS, result.stdout + result.stderr
    assert ("Fatal Python error: Bus error" in result.stderr) == (faulthandler != "none")


def test_faulthandler_disabled_again_leaves_the_guard_working(tmp_path):
    result = run_scenario(
        tmp_path,
        """
faulthandler.disable()
arr = mmap_array.MemoryMappedArray("data.bin").get_array()
os.truncate("data.bin", 0)
try:
    arr.sum()
except mmap_array.FileTruncatedError:
    print("caught")
""",
        "after",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["caught"]


def test_several_handles_and_formats(tmp_path):
    result = run_scenario(
        tmp_path,
        """
np.save("a.npy", np.ones(2000))
mmap_array.save_safetensors("w.safetensors", {"w": np.ones(2000)})
npy = mmap_array.open("a.npy").get_array()
weights = mmap_array.open_safetensors("w.safetensors")
w = weights["w"]
untouched = mmap_array.MemoryMappedArray("data.bin").get_array()
for path, array in (("a.npy", npy), ("w.safetensors", w)):
    os.truncate(path, 200)
    try:
        array.sum()
    except mmap_array.FileTruncatedError as error:
        print(error.filename)
assert float(untouched.sum()) == float(np.arange(3 * 512).sum())
try:
    weights["w"]
except mmap_array.FileTruncatedError:
    print("container poisoned")
""",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["a.npy", "w.safetensors", "container", "poisoned"]


def test_a_fault_in_another_thread_raises_in_the_main_thread(tmp_path):
    result = run_scenario(
        tmp_path,
        """
arr = mmap_array.MemoryMappedArray("data.bin").get_array()
os.truncate("data.bin", 0)
sums = []
worker = threading.Thread(target=lambda: sums.append(float(arr.sum())))
try:
    worker.start()
    worker.join()
    len(sums)
except mmap_array.FileTruncatedError:
    print("main thread got it")
worker.join()
print(sums)
""",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["main thread got it", "[0.0]"]


def test_a_forked_child_survives_touching_an_inherited_mapping(tmp_path):
    result = run_scenario(
        tmp_path,
        """
arr = mmap_array.MemoryMappedArray("data.bin").get_array()
pid = os.fork()
if pid == 0:
    os.truncate("data.bin", 0)
    try:
        arr.sum()
    except mmap_array.FileTruncatedError:
        os._exit(7)
    os._exit(1)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
""",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["7"]


@pytest.mark.parametrize(
    "write",
    [
        'mmap_array.save("out.npy", arr)',
        'mmap_array.save("out.npy", arr[::2])',
        'mmap_array.write_binary("out.npy", arr)',
        'mmap_array.save_safetensors("out.npy", {"a": arr})',
    ],
)
def test_saving_from_a_vanished_mapping_raises_and_keeps_the_target(tmp_path, write):
    result = run_scenario(
        tmp_path,
        f"""
open("out.npy", "wb").write(b"old")
arr = mmap_array.MemoryMappedArray("data.bin").get_array()
os.truncate("data.bin", 0)
try:
    {write}
except mmap_array.FileTruncatedError:
    print("raised")
print(open("out.npy", "rb").read().decode(), sorted(os.listdir(".")))
""",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["raised", "old ['data.bin', 'out.npy']"]
