"""Shared helpers of the Python test suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest


def run_python(
    code: str, *, cwd: str | os.PathLike | None = None, prefix: tuple[str, ...] = (), timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (so a crash cannot take pytest down)."""
    return subprocess.run(
        [*prefix, sys.executable, "-c", textwrap.dedent(code)],
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


@pytest.fixture
def floats(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A raw file of 1000 float64 values, and the values."""
    data = np.random.default_rng(7).random(1000)
    return write_bytes(tmp_path / "floats.bin", data), data


def run_on_small_filesystem(code: str, size: str = "1m") -> subprocess.CompletedProcess:
    """Run ``code`` in a child whose ``sys.argv[1]`` is a fresh tmpfs of ``size`` bytes.

    The tmpfs is mounted in a new user and mount namespace, so no privileges are
    needed and nothing outside the child sees it. Where the kernel forbids such
    namespaces the test is skipped, saying so.
    """
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("util-linux's unshare is missing: cannot mount a small filesystem")
    probe = subprocess.run([unshare, "--user", "--map-root-user", "--mount", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"the kernel forbids user+mount namespaces here: {probe.stderr.strip()}")
    script = 'dir=$(mktemp -d) && mount -t tmpfs -o size="$1" tmpfs "$dir" && exec "$2" -c "$3" "$dir"'
    return subprocess.run(
        [unshare, "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", size, sys.executable, textwrap.dedent(code)],
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


def run_python_with_faults(code: str, library: Path, *, cwd, **settings: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a child with the shim preloaded and MMAP_ARRAY_TEST_* ``settings``."""
    env = dict(os.environ, LD_PRELOAD=str(library))
    env.update({f"MMAP_ARRAY_TEST_{key.upper()}": value for key, value in settings.items()})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )
