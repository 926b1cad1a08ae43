"""``mmap-array info``: the format and every array of a file, as an aligned table."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import mmap_array


def _info(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mmap_array", "info", *args], capture_output=True, text=True)


def _columns(line: str) -> list[str]:
    return line.split()


def test_safetensors_table_lists_every_tensor(tmp_path):
    path = tmp_path / "m.safetensors"
    mmap_array.save_safetensors(path, {"embed": np.zeros((10, 4), np.float32), "bias": np.zeros(4, np.int8)},
                                {"format": "pt"})
    result = _info(str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{path}: safetensors, 2 arrays, {path.stat().st_size:,} bytes, 100.0% in memory"
    assert lines[1] == "  format: pt"
    assert _columns(lines[2]) == ["name", "dtype", "file", "dtype", "shape", "offset", "bytes", "resident"]
    rows = {cols[0]: cols for cols in map(_columns, lines[3:])}
    assert rows["embed"][1:3] == ["float32", "F32"] and rows["embed"][-2:] == ["160", "100.0%"]
    assert rows["bias"][1:3] == ["int8", "I8"] and rows["bias"][-2:] == ["4", "100.0%"]
    # aligned: numbers are right-aligned in the last column, so every row ends where the heading does
    assert len({len(line) for line in lines[2:]}) == 1


def test_npy_and_npz_and_raw(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((3, 2), ">i2"))
    result = _info(str(tmp_path / "a.npy"))
    assert result.returncode == 0, result.stderr
    assert ": npy, 1 array," in result.stdout.splitlines()[0]
    assert _columns(result.stdout.splitlines()[-1]) == ["-", ">i2", ">i2", "(3,", "2)", "128", "12", "100.0%"]

    np.savez(tmp_path / "b.npz", x=np.arange(3), y=np.eye(2))
    result = _info(str(tmp_path / "b.npz"))
    assert result.returncode == 0 and ": npz, 2 arrays," in result.stdout

    (tmp_path / "c.bin").write_bytes(b"\0" * 48)
    result = _info(str(tmp_path / "c.bin"), "--dtype", "float32", "--shape", "3,4")
    assert result.returncode == 0, result.stderr
    assert ": raw, 1 array," in result.stdout and "(3, 4)" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.bin"], "No such file or directory"),
        (["raw.bin"], "a raw file needs --dtype"),
        (["raw.bin", "--shape", "3"], "give --dtype too"),
        (["raw.bin", "--dtype", "float32", "--shape", "x"], "--shape must be integers"),
        (["bad.npy"], "header"),
    ],
)
def test_errors_are_one_line_with_status_1(tmp_path, args, message):
    (tmp_path / "raw.bin").write_bytes(b"\0" * 12)
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY\x01\x00\x08\x00{'a': 1}")
    result = subprocess.run([sys.executable, "-m", "mmap_array", "info", *args], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mmap-array info: error: "), result.stderr
    assert re.search(message, lines[0]), lines[0]


def test_compressed_members_show_as_unknown(tmp_path):
    np.savez_compressed(tmp_path / "c.npz", z=np.arange(3))
    result = _info(str(tmp_path / "c.npz"))
    assert result.returncode == 0, result.stderr
    assert _columns(result.stdout.splitlines()[-1]) == ["z", "-", "-", "-", "-", "-", "-"]
