"""Writers that cannot finish fail with the OS's errno and leave the target as it was.

Each kind of refusal the kernel has for writes: a file size limit (EFBIG), a
read-only filesystem (EROFS) and a failing fsync. A full disk (ENOSPC) is in
test_full_disk.py, and flush() errors in test_flush.py.
"""

from __future__ import annotations

import errno
import json

import pytest

from conftest import (
    WRITERS,
    assert_refused,
    run_on_small_filesystem,
    run_python,
    run_python_with_faults,
    write_and_report,
    write_old_target,
)

# SIGXFSZ would kill the child before the library saw EFBIG; Python ignores it already,
# but saying so keeps the test independent of the interpreter's defaults.
FILE_SIZE_LIMIT = """
import resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, resource.RLIM_INFINITY))
"""


@pytest.mark.parametrize("writer", list(WRITERS))
def test_every_writer_over_the_file_size_limit_is_efbig_and_keeps_the_old_file(tmp_path, writer):
    # 800 KB under a 64 KB limit; the old target (4 KB) is within it.
    code = write_old_target(writer) + write_and_report(writer, 100_000, before=FILE_SIZE_LIMIT)
    assert_refused(run_python(code, args=(str(tmp_path),)), writer, errno.EFBIG)


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_new_file_over_the_file_size_limit_is_efbig_and_leaves_nothing(tmp_path, writer):
    code = write_and_report(writer, 100_000, before=FILE_SIZE_LIMIT)
    assert_refused(run_python(code, args=(str(tmp_path),)), writer, errno.EFBIG, existed=False)



@pytest.mark.parametrize("writer", list(WRITERS))
def test_every_writer_reserves_the_whole_file_before_writing_it(tmp_path, fail_syscalls_library, writer):
    # Every writer asks for all of its space in one posix_fallocate before copying a byte:
    # a full disk is then refused at once, whatever the filesystem's delayed allocation
    # would have let through, and the copy goes into blocks the filesystem already has
    # (faster on ext4). A writer that stopped reserving would write here and succeed.
    counter = tmp_path.parent / f"{tmp_path.name}.calls"
    result = run_python_with_faults(
        write_old_target(writer) + write_and_report(writer, 100_000),
        fail_syscalls_library,
        cwd=tmp_path,
        args=(str(tmp_path),),
        fail=f"posix_fallocate:{errno.ENOSPC}",
        count_file=str(counter),
    )
    assert_refused(result, writer, errno.ENOSPC)
    assert counter.read_bytes() == b"p"  # one reservation, reported and not retried

# --- a read-only filesystem ------------------------------------------------------------

# Written by NumPy and the safetensors package, before the filesystem turns read-only.
SAMPLES = """
import os, sys
import numpy as np
from safetensors.numpy import save_file
os.chdir(sys.argv[1])
values = np.arange(1000.0)
values.tofile("data.bin")
np.save("data.npy", values)
save_file({"w": values}, "data.safetensors")
np.savez("data.npz", w=values)
"""

# How each file is opened, with MODE, and how its array is taken from the handle.
OPENERS = {
    "MemoryMappedArray": ("data.bin", "mmap_array.MemoryMappedArray(path, mode=MODE)", "handle.get_array()"),
    "open-npy": ("data.npy", "mmap_array.open(path, mode=MODE)", "handle.get_array()"),
    "open-raw": ("data.bin", 'mmap_array.open(path, mode=MODE, dtype="f8", format="raw")', "handle.get_array()"),
    "open_safetensors": ("data.safetensors", "mmap_array.open_safetensors(path, mode=MODE)", 'handle["w"]'),
    "open_npz": ("data.npz", "mmap_array.open_npz(path, mode=MODE)", 'handle["w"]'),
}


def _open_and_report(opener: str, mode: str) -> str:
    name, opening, taking = OPENERS[opener]
    return f"""
import json, os, sys
import numpy as np
import mmap_array
path = os.path.join(sys.argv[1], {name!r})
with open(path, "rb") as file:
    before = file.read()
MODE = {mode!r}
outcome = {{"path": path, "error": None}}
try:
    handle = {opening}
    array = {taking}
    outcome["read"] = bool(np.array_equal(array, np.arange(1000.0)))
    outcome["writeable"] = bool(array.flags.writeable)
    if array.flags.writeable:
        array[:3] = -1.0
        outcome["written"] = array[:4].tolist()
    del array
    handle.close()
except BaseException as error:
    outcome.update(error=type(error).__name__, errno=getattr(error, "errno", None),
                   filename=getattr(error, "filename", None), message=str(error))
with open(path, "rb") as file:
    outcome["file_unchanged"] = file.read() == before
outcome["listing"] = sorted(os.listdir(sys.argv[1]))
print(json.dumps(outcome))
"""


def _on_read_only_filesystem(code: str, prepare: str = SAMPLES) -> dict:
    result = run_on_small_filesystem(code, prepare=prepare, readonly=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


LISTING = ["data.bin", "data.npy", "data.npz", "data.safetensors"]


@pytest.mark.parametrize("opener", list(OPENERS))
def test_read_only_mode_works_on_a_read_only_filesystem(opener):
    outcome = _on_read_only_filesystem(_open_and_report(opener, "r"))
    assert outcome["error"] is None, outcome
    assert outcome["read"] and not outcome["writeable"]
    assert outcome["file_unchanged"] and outcome["listing"] == LISTING


@pytest.mark.parametrize("opener", list(OPENERS))
def test_copy_on_write_mode_writes_its_private_copy_on_a_read_only_filesystem(opener):
    outcome = _on_read_only_filesystem(_open_and_report(opener, "c"))
    assert outcome["error"] is None, outcome
    assert outcome["read"] and outcome["writeable"]
    assert outcome["written"] == [-1.0, -1.0, -1.0, 3.0]
    assert outcome["file_unchanged"] and outcome["listing"] == LISTING


@pytest.mark.parametrize("opener", list(OPENERS))
def test_read_write_mode_on_a_read_only_filesystem_is_erofs(opener):
    outcome = _on_read_only_filesystem(_open_and_report(opener, "r+"))
    assert (outcome["error"], outcome["errno"]) == ("OSError", errno.EROFS), outcome
    assert outcome["filename"] == outcome["path"] and outcome["path"] in outcome["message"], outcome
    assert outcome["file_unchanged"] and outcome["listing"] == LISTING


@pytest.mark.parametrize("existed", [True, False], ids=["replacing", "new"])
@pytest.mark.parametrize("writer", list(WRITERS))
def test_every_writer_on_a_read_only_filesystem_is_erofs(writer, existed):
    result = run_on_small_filesystem(
        write_and_report(writer, 1000), prepare=write_old_target(writer) if existed else None, readonly=True
    )
    assert_refused(result, writer, errno.EROFS, existed=existed)


def test_the_read_only_filesystem_is_really_read_only():
    # Without this, the EROFS tests above could pass for some other reason than the mount.
    outcome = _on_read_only_filesystem(
        """
        import errno, json, os, sys
        try:
            open(os.path.join(sys.argv[1], "probe"), "wb")
        except OSError as error:
            print(json.dumps({"errno": error.errno, "listing": sorted(os.listdir(sys.argv[1]))}))
        """
    )
    assert outcome == {"errno": errno.EROFS, "listing": LISTING}


# --- a failing fsync -------------------------------------------------------------------

SAVERS = {
    "save-npy": ("target.npy", "mmap_array.save('target.npy', np.ones(1000), fsync=True)"),
    "save-raw": ("target.bin", "mmap_array.save('target.bin', np.ones(1000), format='raw', fsync=True)"),
    "save_safetensors": (
        "target.safetensors",
        "mmap_array.save_safetensors('target.safetensors', {'w': np.ones(1000)}, fsync=True)",
    ),
}


@pytest.mark.parametrize("error_number", [errno.EIO, errno.ENOSPC, errno.EROFS], ids=["EIO", "ENOSPC", "EROFS"])
@pytest.mark.parametrize("saver", list(SAVERS))
def test_a_durable_save_whose_fsync_fails_raises_and_keeps_the_old_file(
    tmp_path, fail_syscalls_library, saver, error_number
):
    name, statement = SAVERS[saver]
    (tmp_path / name).write_bytes(b"old contents")
    result = run_python_with_faults(
        f"""
        import numpy as np, mmap_array
        try:
            {statement}
        except OSError as error:
            print(type(error).__name__, error.errno, error.filename)
        else:
            print("saved")
        """,
        fail_syscalls_library,
        cwd=tmp_path,
        fail=f"fsync:{error_number}",
        count_file=str(tmp_path.parent / f"{tmp_path.name}.calls"),
    )
    assert result.returncode == 0, result.stderr
    # A save that asked for durability and did not get it must not be reported as done.
    assert result.stdout.split() == ["OSError", str(error_number), name]
    assert (tmp_path / name).read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert (tmp_path.parent / f"{tmp_path.name}.calls").read_bytes() == b"f"  # reported, not retried
