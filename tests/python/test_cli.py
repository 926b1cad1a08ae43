"""The command line: ``python -m mmap_array`` and the ``mmap-array`` console script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mmap_array
from mmap_array._cli import build_parser


def _run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mmap_array", *args], capture_output=True, text=True, cwd=cwd)


def test_demo_runs_the_seed_scenario_beside_numpy(tmp_path):
    result = _run("demo", "--n", "5000", "--repeat", "3", "--dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "5,000 float64 values" in out
    for name in ("mmap_array.MemoryMappedArray", "numpy.memmap", "np.fromfile", "mmap_array.write_binary", "ndarray.tofile"):
        assert name in out
    assert "size: 5,000 elements" in out
    assert "mean: " in out and "max: " in out
    assert "data matches original: OK" in out
    assert "numpy.memmap and np.fromfile read the same values: OK" in out
    assert os.listdir(tmp_path) == ["test_data.bin"]


def test_demo_default_size_is_ten_million():
    assert build_parser().parse_args(["demo"]).n == 10_000_000


def test_console_script_is_installed():
    script = shutil.which("mmap-array") or str(Path(sys.executable).with_name("mmap-array"))
    result = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.strip() == f"mmap_array {mmap_array.__version__}"


@pytest.mark.parametrize("args", [["--help"], ["demo", "--help"]])
def test_help(args):
    result = _run(*args)
    assert result.returncode == 0 and "usage: mmap-array" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--n", "0"], "--n must be at least 1"),
        (["demo", "--n", "10", "--dir", "/nonexistent/dir"], "No such file or directory"),
    ],
)
def test_errors_are_one_line_with_status_1(args, message):
    result = _run(*args)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mmap-array demo: error: ") and message in lines[0]
    assert "Traceback" not in result.stderr


def test_running_out_of_memory_is_one_line():
    result = _run("demo", "--n", "100000000000")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "mmap-array demo: error: out of memory"


def test_demo_on_a_full_disk_leaves_no_partial_file():
    from conftest import run_on_small_filesystem

    result = run_on_small_filesystem(
        """
        import os, sys
        from mmap_array._cli import main
        status = main(["demo", "--n", "100000", "--repeat", "1", "--dir", sys.argv[1]])
        print(status, sorted(os.listdir(sys.argv[1])))
        """,
        size="1200k",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] in ("1 []", "1 ['test_data.bin']")


def test_unknown_command_is_a_usage_error():
    result = _run("frobnicate")
    assert result.returncode == 2 and "invalid choice" in result.stderr
