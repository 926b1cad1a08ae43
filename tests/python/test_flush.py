"""flush(): durable writes of r+ and w+ mappings, errors reported as OSError, GIL released.

Failures of msync and fsync are injected with an LD_PRELOAD shim
(native/fail_syscalls.c), so the real module's real path is exercised.
"""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from conftest import run_python_with_faults, write_bytes

FLUSH_AND_REPORT = """
    import mmap_array
    mm = mmap_array.MemoryMappedArray("data.bin", mode="r+")
    mm.get_array()[0] = 42.0
    try:
        mm.flush()
    except OSError as error:
        print(type(error).__name__, error.errno, error.filename, error.strerror)
    else:
        print("flushed")
    print("still usable:", mm.get_array()[0])
"""


@pytest.fixture
def data_dir(tmp_path):
    write_bytes(tmp_path / "data.bin", np.zeros(1024))
    return tmp_path


@pytest.mark.parametrize("call", ["msync", "fsync"])
def test_io_errors_of_flush_are_os_error_and_not_retried(data_dir, fail_syscalls_library, call):
    counter = data_dir / "calls"
    result = run_python_with_faults(
        FLUSH_AND_REPORT, fail_syscalls_library, cwd=data_dir, fail=f"{call}:{errno.EIO}", count_file=str(counter)
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    kind, number, filename, message = first.split(" ", 3)
    assert (kind, int(number), filename) == ("OSError", errno.EIO, "data.bin")
    assert message.startswith("cannot ") and "Input/output error" in message
    assert second == "still usable: 42.0"
    assert counter.read_bytes() == call[0].encode()  # one failing call: reported, not retried



# A full disk or a filesystem gone read-only (ext4's errors=remount-ro) can also surface at
# msync or fsync; each is an OSError with its own errno, never swallowed into success.
@pytest.mark.parametrize("error_number", [errno.ENOSPC, errno.EDQUOT, errno.EROFS], ids=["ENOSPC", "EDQUOT", "EROFS"])
@pytest.mark.parametrize("call", ["msync", "fsync"])
def test_space_and_read_only_errors_of_flush_are_os_error_and_not_retried(
    data_dir, fail_syscalls_library, call, error_number
):
    counter = data_dir / "calls"
    result = run_python_with_faults(
        FLUSH_AND_REPORT, fail_syscalls_library, cwd=data_dir, fail=f"{call}:{error_number}", count_file=str(counter)
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    kind, number, filename, message = first.split(" ", 3)
    assert (kind, int(number), filename) == ("OSError", error_number, "data.bin")
    assert message.startswith("cannot ") and os.strerror(error_number) in message
    assert second == "still usable: 42.0"
    assert counter.read_bytes() == call[0].encode()

def test_flush_without_faults_succeeds(data_dir, fail_syscalls_library):
    result = run_python_with_faults(FLUSH_AND_REPORT, fail_syscalls_library, cwd=data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["flushed", "still usable: 42.0"]
    assert np.fromfile(data_dir / "data.bin")[0] == 42.0


def test_flush_releases_the_gil(data_dir, fail_syscalls_library):
    # fsync stalls 400 ms; a thread that needs the GIL must keep running meanwhile.
    result = run_python_with_faults(
        """
        import threading, time, mmap_array
        mm = mmap_array.MemoryMappedArray("data.bin", mode="r+")
        done = threading.Event()
        ticks = 0
        def tick():
            global ticks
            while not done.is_set():
                ticks += 1
                time.sleep(0.001)
        thread = threading.Thread(target=tick)
        thread.start()
        time.sleep(0.05)
        before = ticks
        mm.flush()
        during = ticks - before
        done.set()
        thread.join()
        print(during)
        """,
        fail_syscalls_library,
        cwd=data_dir,
        stall="fsync:400",
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 50  # about 300 ticks if the GIL is free, 0 or 1 if held



CONTAINER_FLUSH_AND_REPORT = """
    import numpy as np
    import mmap_array
    mmap_array.save_safetensors("weights.safetensors", {{"bias": np.zeros(512)}})
    np.savez("bundle.npz", bias=np.zeros(512))
    container = mmap_array.{opener}("{name}", mode="r+")
    container["bias"][0] = 42.0
    try:
        container.flush()
    except OSError as error:
        print(type(error).__name__, error.errno, error.filename)
    else:
        print("flushed")
    container.close()
    try:
        container.flush()
    except ValueError as error:
        print("closed:", "closed" in str(error))
"""


@pytest.mark.parametrize(("opener", "name"), [("open_safetensors", "weights.safetensors"), ("open_npz", "bundle.npz")])
@pytest.mark.parametrize("call", ["msync", "fsync", None])
def test_containers_flush_their_writes_and_report_errors(tmp_path, fail_syscalls_library, opener, name, call):
    settings = {"fail": f"{call}:{errno.EIO}"} if call else {}
    code = CONTAINER_FLUSH_AND_REPORT.format(opener=opener, name=name)
    result = run_python_with_faults(code, fail_syscalls_library, cwd=tmp_path, **settings)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    if call is None:
        assert first == "flushed"
    else:
        kind, number, filename = first.split(" ")
        assert (kind, int(number)) == ("OSError", errno.EIO)
        assert filename.endswith(name)
    assert second == "closed: True"
