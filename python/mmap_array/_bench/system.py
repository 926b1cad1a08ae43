"""What the benchmark ran on: machine, kernel, filesystem, libraries and date.

Numbers without their machine cannot be compared with anything, so the report
records everything here that changes them: the CPU and memory, the kernel and
its transparent-huge-page setting, the filesystem and device readahead under
the benchmark's files, and the version of every library measured.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import subprocess

import numpy as np

from .. import __version__

_LIBRARIES = ("pyarrow", "safetensors", "torch", "matplotlib")


def _read(path: str) -> str | None:
    try:
        with open(path) as file:
            return file.read().strip()
    except OSError:
        return None


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (``platform.processor()`` elsewhere)."""
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_bytes() -> int | None:
    """Total RAM from ``/proc/meminfo``, or None if unknown."""
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None


def transparent_hugepages() -> str:
    """The active choice of ``/sys/kernel/mm/transparent_hugepage/enabled``, e.g. ``madvise``."""
    text = _read("/sys/kernel/mm/transparent_hugepage/enabled")
    if text is None:
        return "unknown"
    for word in text.split():
        if word.startswith("[") and word.endswith("]"):
            return word[1:-1]
    return text


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, e.g. ``"0.12 0.30 0.25"``: how busy the machine was."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def mount_of(path: str) -> dict[str, str]:
    """The mount holding ``path``: mount point, filesystem type, source and device numbers.

    Parameters
    ----------
    path : str

    Returns
    -------
    dict
        Keys ``mount_point``, ``fstype``, ``source``, ``device`` (``"major:minor"``);
        empty where ``/proc/self/mountinfo`` is missing.
    """
    target = os.path.realpath(path)
    best: dict[str, str] = {}
    for line in (_read("/proc/self/mountinfo") or "").splitlines():
        # "id parent major:minor root mount-point options [optional...] - fstype source super"
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(fields) < 5 or len(tail) < 2:
            continue
        point = fields[4].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best.get("mount_point", "")):
            best = {"mount_point": point, "fstype": tail[0], "source": tail[1], "device": fields[2]}
    return best


def readahead_kb(device: str) -> int | None:
    """The block device's ``read_ahead_kb`` (of the whole disk for a partition), or None."""
    base = f"/sys/dev/block/{device}"
    for queue in (f"{base}/queue/read_ahead_kb", f"{base}/../queue/read_ahead_kb"):
        text = _read(queue)
        if text is not None:
            return int(text)
    return None


def library_versions() -> dict[str, str]:
    """Versions of Python, NumPy, mmap_array and every anchor library (``"not installed"``)."""
    versions = {"Python": platform.python_version(), "NumPy": np.__version__, "mmap_array": __version__}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def source_revision(repository: str) -> str | None:
    """``git describe --always --dirty`` of ``repository``, or None if it is not a git checkout."""
    try:
        done = subprocess.run(
            ["git", "-C", repository, "describe", "--always", "--dirty"], check=False, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def describe(bench_dir: str, repository: str | None = None) -> dict[str, str]:
    """Everything the report's machine section lists, as display strings.

    Parameters
    ----------
    bench_dir : str
        Where the benchmark's files live.
    repository : str, optional
        The checkout the report is written into; its git revision is recorded.

    Returns
    -------
    dict of str to str
        In the order the report shows them.
    """
    mount = mount_of(bench_dir)
    memory = memory_bytes()
    ahead = readahead_kb(mount["device"]) if mount.get("device") else None
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": f"{cpu_model()}, {os.cpu_count()} logical cores",
        "RAM": f"{memory / 2**30:.1f} GiB" if memory else "unknown",
        "load average before (1, 5, 15 min)": load_average(),
        "kernel": f"{platform.system()} {platform.release()}",
        "transparent huge pages": transparent_hugepages(),
        "bench directory": bench_dir,
        "filesystem": (
            f"{mount['fstype']} on {mount['source']} (mounted at {mount['mount_point']})" if mount else "unknown"
        ),
        "device readahead": f"{ahead} KiB" if ahead is not None else "unknown",
    }
    info.update(library_versions())
    revision = source_revision(repository) if repository is not None else None
    if revision is not None:
        info["repository revision"] = revision
    return info
