"""Shared helpers of the Python test suite."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest

# hypothesis keeps caches (and its example database) in ./.hypothesis by default, which
# would be a directory in the checkout; tests write under temporary directories only.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", tempfile.mkdtemp(prefix="mmap_array-hypothesis-"))


def run_python(
    code: str,
    *,
    cwd: str | os.PathLike | None = None,
    prefix: tuple[str, ...] = (),
    timeout: float = 300,
    args: tuple[str, ...] = (),
) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (so a crash cannot take pytest down); ``args`` go to sys.argv[1:]."""
    return subprocess.run(
        [*prefix, sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def open_descriptors() -> int:
    """Number of file descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))


def mappings_of(path: str | os.PathLike) -> int:
    """Number of this process's memory mappings of the file at ``path``."""
    target = os.path.realpath(path)
    with open("/proc/self/maps") as maps:
        return sum(1 for line in maps if line.rstrip("\n").endswith(" " + target))


def write_bytes(path: Path, data: bytes | np.ndarray) -> Path:
    """Write ``data`` (raw bytes, or an array's bytes in C order) to ``path``."""
    path.write_bytes(data if isinstance(data, bytes) else np.ascontiguousarray(data).tobytes())
    return path


def unprivileged_prefix() -> tuple[str, ...]:
    """A command prefix that runs a child without the power to bypass file permissions.

    As root, file modes do not stop open(2); dropping CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH from the bounding set makes them count again, which is
    what an ordinary user sees.
    """
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("running as root and util-linux's setpriv is missing: cannot test permissions")
    return (setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--")


def _entries(directories: set[str]) -> set[str]:
    return {
        os.path.join(directory, name)
        for directory in directories
        if os.path.isdir(directory)
        for name in os.listdir(directory)
        if name not in ("__pycache__", ".pytest_cache")
    }


@pytest.fixture(autouse=True)
def _writes_only_under_tmp_path():
    """Fails the test that leaves a file in the test sources or pytest's working directory.

    A child run without ``cwd`` (or code using a relative path) writes into the directory
    pytest runs in, usually the checkout: every test must write under ``tmp_path``.
    """
    watched = {str(Path(__file__).resolve().parent), os.getcwd()}
    before = _entries(watched)
    yield
    left = sorted(_entries(watched) - before)
    if left:
        pytest.fail(f"the test left {left} outside tmp_path; write under tmp_path (pass cwd= to children)")


@pytest.fixture
def floats(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A raw file of 1000 float64 values, and the values."""
    data = np.random.default_rng(7).random(1000)
    return write_bytes(tmp_path / "floats.bin", data), data


def run_on_small_filesystem(
    code: str, size: str = "1m", *, prepare: str | None = None, readonly: bool = False
) -> subprocess.CompletedProcess:
    """Run ``code`` in a child whose ``sys.argv[1]`` is a fresh tmpfs of ``size`` bytes.

    The tmpfs is mounted in a new user and mount namespace, so no privileges are
    needed and nothing outside the child sees it. ``prepare``, if given, runs first
    in its own interpreter with the same ``sys.argv[1]`` (to write the files ``code``
    needs); with ``readonly`` the tmpfs is then remounted read-only, so ``code`` sees
    a read-only filesystem holding them. Where the kernel forbids such namespaces
    the test is skipped, saying so.
    """
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("util-linux's unshare is missing: cannot mount a small filesystem")
    probe = subprocess.run([unshare, "--user", "--map-root-user", "--mount", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"the kernel forbids user+mount namespaces here: {probe.stderr.strip()}")
    script = (
        'dir=$(mktemp -d) && mount -t tmpfs -o size="$1" tmpfs "$dir" && '
        '"$2" -c "$4" "$dir" && '
        '{ [ "$5" = rw ] || mount -o remount,ro "$dir"; } && '
        'exec "$2" -c "$3" "$dir"'
    )
    arguments = [size, sys.executable, textwrap.dedent(code), textwrap.dedent(prepare or ""), "ro" if readonly else "rw"]
    return subprocess.run(
        [unshare, "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", *arguments],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="session")
def fail_syscalls_library(tmp_path_factory) -> Path:
    """The LD_PRELOAD shim of native/fail_syscalls.c, compiled for this session."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.fail("no C compiler (cc, gcc or clang) to build the syscall-failure shim")
    source = Path(__file__).with_name("native") / "fail_syscalls.c"
    library = tmp_path_factory.mktemp("shim") / "libfail_syscalls.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(library), str(source), "-ldl"], check=True)
    return library


def run_python_with_faults(
    code: str, library: Path, *, cwd, args: tuple[str, ...] = (), **settings: str
) -> subprocess.CompletedProcess:
    """Run ``code`` (with ``args`` as ``sys.argv[1:]``) in a child with the shim preloaded and
    MMAP_ARRAY_TEST_* ``settings``."""
    env = dict(os.environ, LD_PRELOAD=str(library))
    env.update({f"MMAP_ARRAY_TEST_{key.upper()}": value for key, value in settings.items()})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=300,
    )


# What a target holds before a writer that must fail runs on it: the failure must leave it so.
# The children build it from the same expression.
_OLD_CONTENTS_EXPRESSION = "bytes(range(256)) * 16"

# Every way the package writes a file: the target's name and a statement writing it, where
# `path` is the target and `N` a number of float64 values.
WRITERS = {
    "create-npy": ("target.npy", 'mmap_array.create(path, (N,), "f8")'),
    "create-raw": ("target.bin", 'mmap_array.create(path, (N,), "f8", format="raw")'),
    "MemoryMappedArray-w+": ("target.bin", 'mmap_array.MemoryMappedArray(path, mode="w+", shape=(N,))'),
    "open-w+-npy": ("target.npy", 'mmap_array.open(path, mode="w+", dtype="f8", shape=(N,))'),
    "open-w+-raw": ("target.bin", 'mmap_array.open(path, mode="w+", dtype="f8", shape=(N,), format="raw")'),
    "save-npy": ("target.npy", "mmap_array.save(path, np.ones(N))"),
    "save-raw": ("target.bin", 'mmap_array.save(path, np.ones(N), format="raw")'),
    "save_safetensors": ("target.safetensors", 'mmap_array.save_safetensors(path, {"w": np.ones(N)})'),
    "write_binary": ("target.bin", "mmap_array.write_binary(path, np.ones(N))"),
}


def write_old_target(writer: str) -> str:
    """Code that writes the old contents to ``writer``'s target in the directory ``sys.argv[1]``."""
    return f"""
import os, sys
with open(os.path.join(sys.argv[1], {WRITERS[writer][0]!r}), "wb") as target:
    target.write({_OLD_CONTENTS_EXPRESSION})
"""


def write_and_report(writer: str, count: int, *, before: str = "") -> str:
    """Code that runs ``writer`` for ``count`` values in ``sys.argv[1]`` and prints the outcome as JSON.

    ``before`` runs first (to set limits). The outcome holds the error's class, errno,
    filename and message, whether the target still holds the old contents (``"old"``), is
    gone (``"missing"``) or holds anything else, and the directory's listing.
    """
    name, statement = WRITERS[writer]
    return f"""
import json, os, sys
import numpy as np
import mmap_array
{before}
path = os.path.join(sys.argv[1], {name!r})
N = {count}
outcome = {{"path": path, "error": None}}
try:
    result = {statement}
except BaseException as error:
    outcome.update(error=type(error).__name__, errno=getattr(error, "errno", None),
                   filename=getattr(error, "filename", None), message=str(error))
else:
    del result
if not os.path.exists(path):
    outcome["target"] = "missing"
else:
    with open(path, "rb") as target:
        outcome["target"] = "old" if target.read() == {_OLD_CONTENTS_EXPRESSION} else "changed"
outcome["listing"] = sorted(os.listdir(sys.argv[1]))
print(json.dumps(outcome))
"""


def assert_refused(result: subprocess.CompletedProcess, writer: str, error_number: int, *, existed: bool = True) -> None:
    """Assert that ``writer`` failed with OSError(``error_number``) naming its target and changed nothing."""
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert (outcome["error"], outcome["errno"]) == ("OSError", error_number), outcome
    assert outcome["filename"] == outcome["path"] and outcome["path"] in outcome["message"], outcome
    name = WRITERS[writer][0]
    # No temporary file may be left beside the target, and the target keeps every byte.
    assert outcome["target"] == ("old" if existed else "missing"), outcome
    assert outcome["listing"] == ([name] if existed else []), outcome
