"""``mmap-array convert``: raw, .npy, safetensors (and .npz as a source), streamed through a mapping.

Round trips are checked against NumPy and safetensors themselves; streaming, the
progress bar, interrupts and truncation in child processes, as a user meets them.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import mmap_array
from mmap_array import _convert
from mmap_array._cli import main

try:
    import ml_dtypes
except ImportError:  # pragma: no cover - the test extra installs it
    ml_dtypes = None


def convert(*args: str | os.PathLike) -> int:
    """Run ``mmap-array convert`` in this process; return its exit status."""
    return main(["convert", *(os.fsdecode(arg) for arg in args)])


def run(*args: str | os.PathLike, cwd=None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mmap_array", *(os.fsdecode(arg) for arg in args)],
        capture_output=True, text=True, cwd=cwd, timeout=300, **kwargs,
    )


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 4 KiB, so that small files cross many chunk boundaries."""
    monkeypatch.setattr(_convert, "_CHUNK_BYTES", 4096)


# --- help on every command --------------------------------------------------------------


@pytest.mark.parametrize("command", ["demo", "info", "bench", "convert"])
def test_every_command_has_help(command):
    result = run(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: mmap-array {command}")
    assert result.stderr == ""


def test_convert_help_names_every_option_and_an_example():
    result = run("convert", "--help")
    for option in ("--from", "--to", "--dtype", "--shape", "--offset", "--order", "--astype", "--cast",
                   "--tensor", "--name", "--progress", "--no-progress", "--quiet", "--fsync"):
        assert option in result.stdout
    assert "mmap-array convert data.bin data.npy --shape -1,3" in result.stdout
    assert re.search(r"^    convert +convert between", run("--help").stdout, re.M)


# --- round trips against NumPy and safetensors ------------------------------------------


def test_raw_to_npy_read_by_np_load(tmp_path, capsys):
    data = np.random.default_rng(1).random((500, 3))
    data.tofile(tmp_path / "data.bin")
    assert convert(tmp_path / "data.bin", tmp_path / "data.npy", "--shape", "-1,3") == 0
    loaded = np.load(tmp_path / "data.npy")
    assert loaded.dtype == np.float64 and np.array_equal(loaded, data)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "-> " in out and f"{tmp_path / 'data.npy'} (npy float64)" in out


def test_raw_default_dtype_is_float64_one_dimensional(tmp_path):
    np.arange(10.0).tofile(tmp_path / "seed.bin")
    assert convert(tmp_path / "seed.bin", tmp_path / "seed.npy") == 0
    assert np.array_equal(np.load(tmp_path / "seed.npy"), np.arange(10.0))


def test_raw_dtype_shape_offset_order(tmp_path):
    data = np.arange(24, dtype=np.int16).reshape(4, 6)
    (tmp_path / "d.bin").write_bytes(b"HEADER" + np.asfortranarray(data).tobytes(order="F"))
    assert convert(tmp_path / "d.bin", tmp_path / "d.npy", "--dtype", "int16", "--shape", "4,6",
                   "--offset", "6", "--order", "F") == 0
    loaded = np.load(tmp_path / "d.npy")
    assert np.array_equal(loaded, data) and loaded.flags.f_contiguous  # Fortran kept, no reordering


def test_npy_to_safetensors_read_by_safetensors(tmp_path):
    data = np.random.default_rng(2).standard_normal((64, 8)).astype(np.float32)
    np.save(tmp_path / "embed.npy", data)
    assert convert(tmp_path / "embed.npy", tmp_path / "model.safetensors") == 0
    tensors = load_file(tmp_path / "model.safetensors")
    assert list(tensors) == ["embed"]  # the default name: the source's stem
    assert tensors["embed"].dtype == np.float32 and np.array_equal(tensors["embed"], data)
    assert convert(tmp_path / "embed.npy", tmp_path / "model.safetensors", "--name", "layer.0.weight") == 0
    assert list(load_file(tmp_path / "model.safetensors")) == ["layer.0.weight"]


def test_safetensors_to_raw_read_by_np_fromfile(tmp_path):
    weights = {"w": np.arange(12, dtype=np.int32).reshape(3, 4), "b": np.ones(4, np.float16)}
    save_file(weights, str(tmp_path / "m.safetensors"), metadata={"format": "np"})
    assert convert(tmp_path / "m.safetensors", tmp_path / "w.bin", "--tensor", "w") == 0
    assert np.array_equal(np.fromfile(tmp_path / "w.bin", np.int32), weights["w"].ravel())
    assert convert(tmp_path / "m.safetensors", tmp_path / "b.safetensors", "--tensor", "b") == 0
    assert list(load_file(tmp_path / "b.safetensors")) == ["b"]  # the tensor keeps its name
    with mmap_array.open_safetensors(tmp_path / "b.safetensors") as copy:
        assert copy.metadata == {"format": "np"}  # and the file its metadata


def test_single_tensor_needs_no_tensor_option(tmp_path):
    save_file({"only": np.arange(5, dtype=np.uint8)}, str(tmp_path / "one.safetensors"))
    assert convert(tmp_path / "one.safetensors", tmp_path / "one.npy") == 0
    assert np.array_equal(np.load(tmp_path / "one.npy"), np.arange(5, dtype=np.uint8))


def test_npz_stored_members(tmp_path):
    fortran = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    np.savez(tmp_path / "b.npz", x=np.arange(3), f=fortran)
    assert convert(tmp_path / "b.npz", tmp_path / "f.safetensors", "--tensor", "f") == 0
    assert np.array_equal(load_file(tmp_path / "f.safetensors")["f"], fortran)
    assert convert(tmp_path / "b.npz", tmp_path / "f.npy", "--tensor", "f") == 0
    assert np.array_equal(np.load(tmp_path / "f.npy"), fortran)


@pytest.mark.skipif(ml_dtypes is None, reason="ml_dtypes is not installed")
def test_bfloat16_safetensors(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file as load_torch
    from safetensors.torch import save_file as save_torch

    source = torch.arange(10, dtype=torch.bfloat16).reshape(2, 5) / 3
    save_torch({"w": source}, str(tmp_path / "bf.safetensors"))
    assert convert(tmp_path / "bf.safetensors", tmp_path / "copy.safetensors", "--name", "v") == 0
    assert torch.equal(load_torch(tmp_path / "copy.safetensors")["v"], source)
    # bfloat16 to float32 loses nothing, so it is a safe cast
    assert convert(tmp_path / "bf.safetensors", tmp_path / "w.npy", "--dtype", "float32") == 0
    assert np.array_equal(np.load(tmp_path / "w.npy"), source.float().numpy())
    # float32 back to bfloat16 loses precision: only when asked
    assert convert(tmp_path / "w.npy", tmp_path / "back.safetensors", "--dtype", "bfloat16") == 1
    assert convert(tmp_path / "w.npy", tmp_path / "back.safetensors", "--dtype", "BF16", "--cast", "same_kind") == 0
    assert torch.equal(load_torch(tmp_path / "back.safetensors")["w"], source)


def test_fortran_ordered_npy(tmp_path, small_chunks):
    data = np.asfortranarray(np.random.default_rng(3).random((40, 30, 7)))  # 67 KB: many 4 KiB chunks
    np.save(tmp_path / "f.npy", data)
    assert convert(tmp_path / "f.npy", tmp_path / "g.npy") == 0
    copy = np.load(tmp_path / "g.npy")
    assert copy.flags.f_contiguous and np.array_equal(copy, data)
    assert convert(tmp_path / "f.npy", tmp_path / "f.safetensors") == 0  # safetensors is C order
    assert np.array_equal(load_file(tmp_path / "f.safetensors")["f"], data)
    assert convert(tmp_path / "f.npy", tmp_path / "f.bin", "--astype", "float32", "--cast", "same_kind") == 0
    assert np.array_equal(np.fromfile(tmp_path / "f.bin", np.float32), data.astype(np.float32).ravel())


@pytest.mark.parametrize("array", [np.float32(3.5), np.zeros((0, 3)), np.zeros(0, np.int8)], ids=["0-d", "empty-2d", "empty"])
def test_zero_dimensional_and_empty_arrays(tmp_path, array):
    np.save(tmp_path / "a.npy", array)
    assert convert(tmp_path / "a.npy", tmp_path / "a.safetensors") == 0
    loaded = load_file(tmp_path / "a.safetensors")["a"]
    assert loaded.shape == array.shape and loaded.dtype == array.dtype
    assert convert(tmp_path / "a.safetensors", tmp_path / "b.npy") == 0
    back = np.load(tmp_path / "b.npy")
    assert back.shape == array.shape and back.dtype == array.dtype and np.array_equal(back, array)
    assert convert(tmp_path / "a.npy", tmp_path / "a.bin") == 0
    assert (tmp_path / "a.bin").read_bytes() == array.tobytes()


def test_big_endian(tmp_path):
    data = np.arange(6, dtype=">i4").reshape(2, 3)
    np.save(tmp_path / "be.npy", data)
    # safetensors is little-endian only: the bytes are swapped, the values kept
    assert convert(tmp_path / "be.npy", tmp_path / "be.safetensors") == 0
    loaded = load_file(tmp_path / "be.safetensors")["be"]
    assert loaded.dtype == np.dtype("<i4") and np.array_equal(loaded, data)
    # .npy and raw keep the byte order
    assert convert(tmp_path / "be.npy", tmp_path / "copy.npy") == 0
    assert np.load(tmp_path / "copy.npy").dtype == np.dtype(">i4")
    assert convert(tmp_path / "be.npy", tmp_path / "be.bin") == 0
    assert (tmp_path / "be.bin").read_bytes() == data.tobytes()
    assert convert(tmp_path / "be.bin", tmp_path / "le.npy", "--dtype", ">i4", "--astype", "<i4") == 0
    assert np.array_equal(np.load(tmp_path / "le.npy"), data.ravel())


def test_npy_without_extension_is_recognised(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(4))
    os.rename(tmp_path / "a.npy", tmp_path / "renamed.bin")
    assert convert(tmp_path / "renamed.bin", tmp_path / "b.npy") == 0
    assert np.array_equal(np.load(tmp_path / "b.npy"), np.arange(4))
    # --from raw reads its bytes, header included
    assert convert(tmp_path / "renamed.bin", tmp_path / "c.npy", "--from", "raw", "--dtype", "u1") == 0
    assert np.load(tmp_path / "c.npy").size == (tmp_path / "renamed.bin").stat().st_size


def test_to_overrides_the_extension(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(4.0))
    assert convert(tmp_path / "a.npy", tmp_path / "weights.pt", "--to", "safetensors", "--name", "x") == 0
    assert np.array_equal(load_file(tmp_path / "weights.pt")["x"], np.arange(4.0))


# --- the cast policy --------------------------------------------------------------------


def test_casts_that_lose_information_need_asking(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.array([1.5, 2.25, 1e300]))
    assert convert(tmp_path / "x.npy", tmp_path / "y.npy", "--dtype", "float32") == 1
    err = capsys.readouterr().err
    assert "from float64 to float32 is not allowed with --cast safe" in err and "--cast same_kind" in err
    assert not (tmp_path / "y.npy").exists()
    assert convert(tmp_path / "x.npy", tmp_path / "y.npy", "--dtype", "int64", "--cast", "same_kind") == 1
    assert "--cast unsafe" in capsys.readouterr().err
    assert convert(tmp_path / "x.npy", tmp_path / "y.npy", "--dtype", "float32", "--cast", "same_kind") == 0
    assert np.array_equal(np.load(tmp_path / "y.npy"), np.array([1.5, 2.25, np.inf], np.float32))
    assert convert(tmp_path / "x.npy", tmp_path / "z.npy", "--astype", "int64", "--cast", "unsafe") == 0
    assert np.load(tmp_path / "z.npy")[:2].tolist() == [1, 2]
    # widening is safe, so it needs nothing
    np.save(tmp_path / "i.npy", np.arange(3, dtype=np.int16))
    assert convert(tmp_path / "i.npy", tmp_path / "f.npy", "--dtype", "float64") == 0
    assert np.load(tmp_path / "f.npy").dtype == np.float64


# --- destinations that exist, and SRC == DST --------------------------------------------


def test_same_path_keeps_the_data(tmp_path):
    data = np.random.default_rng(4).random((100, 4))
    np.save(tmp_path / "a.npy", data)
    assert convert(tmp_path / "a.npy", tmp_path / "a.npy") == 0
    assert np.array_equal(np.load(tmp_path / "a.npy"), data)
    data.tofile(tmp_path / "a.bin")
    assert convert(tmp_path / "a.bin", tmp_path / "a.bin", "--astype", "float32", "--cast", "same_kind") == 0
    assert np.array_equal(np.fromfile(tmp_path / "a.bin", np.float32), data.astype(np.float32).ravel())
    assert sorted(os.listdir(tmp_path)) == ["a.bin", "a.npy"]


def test_existing_destination_is_replaced_and_kept_on_failure(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(4.0))
    (tmp_path / "out.safetensors").write_bytes(b"old")
    assert convert(tmp_path / "a.npy", tmp_path / "out.safetensors", "--dtype", "int8") == 1  # refused cast
    assert convert(tmp_path / "a.npy", tmp_path / "out.safetensors", "--dtype", "complex128") == 1  # no such type there
    assert (tmp_path / "out.safetensors").read_bytes() == b"old"
    assert convert(tmp_path / "a.npy", tmp_path / "out.safetensors") == 0
    assert np.array_equal(load_file(tmp_path / "out.safetensors")["a"], np.arange(4.0))
    assert sorted(os.listdir(tmp_path)) == ["a.npy", "out.safetensors"]


# --- streaming --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "destination", "options"),
    [
        ("a.bin", "b.npy", ["--dtype", "float32", "--shape", "-1,10"]),
        ("a.bin", "b.safetensors", ["--dtype", "float32", "--astype", "float64"]),
        ("a.npy", "b.bin", []),
        ("a.safetensors", "b.npy", ["--dtype", "float16", "--cast", "same_kind"]),
        ("a.npy", "b.safetensors", ["--dtype", ">f4"]),
    ],
)
def test_conversions_across_many_chunks_match_numpy(tmp_path, small_chunks, source, destination, options):
    data = np.random.default_rng(5).random((1000, 10)).astype(np.float32)  # 40 KB: 10 chunks
    data.tofile(tmp_path / "a.bin")
    np.save(tmp_path / "a.npy", data)
    mmap_array.save_safetensors(tmp_path / "a.safetensors", {"a": data})
    assert convert(tmp_path / source, tmp_path / destination, *options) == 0
    dtype = np.dtype(options[options.index("--astype") + 1] if "--astype" in options else
                     options[1] if options and source != "a.bin" else np.float32)
    expected = data.astype(dtype)
    if destination.endswith(".npy"):
        got = np.load(tmp_path / destination)
    elif destination.endswith(".safetensors"):
        got = load_file(tmp_path / destination)["a"]  # the source's name or stem
        expected = expected.astype(expected.dtype.newbyteorder("<"))
    else:
        got = np.fromfile(tmp_path / destination, dtype)
    assert got.dtype == expected.dtype and np.array_equal(got.reshape(expected.shape), expected)


def test_memory_stays_bounded_for_a_200_mb_file(tmp_path):
    # Peak resident memory of a child converting 200 MB, against the same child's baseline
    # after imports: the mapping's pages are dropped after each chunk, so the peak is a
    # chunk or two, not the file. (np.save(dst, np.fromfile(src)) grows by the whole file.)
    size = 200 * 1024 * 1024
    np.arange(size // 8, dtype=np.float64).tofile(tmp_path / "big.bin")
    code = """
import resource, sys
from mmap_array._cli import main
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
status = main(["convert", *sys.argv[1:], "--quiet"])
print(status, before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
    cases = [
        ["big.bin", "big.npy"],  # the bytes as they are
        ["big.bin", "big.safetensors", "--astype", "float32", "--cast", "same_kind"],  # a cast
        ["big.bin", "fortran.npy", "--shape", "-1,4", "--order", "F"],
        ["fortran.npy", "c.safetensors"],  # Fortran to C order: a transposition
    ]
    for args in cases:
        result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                                cwd=tmp_path, timeout=300)
        assert result.returncode == 0, result.stderr
        status, before, peak = map(int, result.stdout.split())
        assert status == 0
        grown = (peak - before) * 1024
        assert grown < size / 4, f"{args}: peak RSS grew by {grown / 1e6:.0f} MB for a {size / 1e6:.0f} MB file"
    with mmap_array.open(tmp_path / "big.npy") as mm:
        assert mm.shape == (size // 8,) and mm.get_array()[-1] == size // 8 - 1
    with mmap_array.open_safetensors(tmp_path / "c.safetensors") as container:
        transposed = container["fortran"]
        rows = size // 32  # in Fortran order, item [i, j] of the file is i + j * rows
        assert transposed.shape == (rows, 4) and transposed[1].tolist() == [1 + j * rows for j in range(4)]
        del transposed


# --- progress bar -----------------------------------------------------------------------


def _run_with_stderr_on_a_terminal(args: list[str], cwd) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal and stdout on a pipe; return (status, stdout, terminal)."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "mmap_array", *args], stdout=subprocess.PIPE,
                                   stderr=terminal, cwd=cwd, text=True)
        os.close(terminal)
        terminal = -1
        seen = b""
        while True:
            ready, _, _ = select.select([controller], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not chunk:
                break
            seen += chunk
        assert process.stdout is not None
        out = process.stdout.read()
        process.wait(timeout=60)
        return process.returncode, out, seen.decode()
    finally:
        os.close(controller)
        if terminal != -1:
            os.close(terminal)


def test_progress_bar_on_a_terminal_only(tmp_path):
    np.zeros(3_000_000).tofile(tmp_path / "a.bin")  # 24 MB: more than one chunk
    status, out, shown = _run_with_stderr_on_a_terminal(["convert", "a.bin", "a.npy"], tmp_path)
    assert status == 0, shown
    assert "\r" in shown and "100.0%" in shown and "24.0 MB/24.0 MB" in shown and shown.endswith("\n")
    assert "a.bin (raw float64 (3000000,)) -> a.npy" in out
    # piped: no bar, nothing on stderr at all
    result = run("convert", "a.bin", "b.npy", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert (tmp_path / "a.npy").read_bytes() == (tmp_path / "b.npy").read_bytes()
    # --no-progress and --quiet silence the terminal; --progress forces the bar on a pipe
    status, out, shown = _run_with_stderr_on_a_terminal(["convert", "a.bin", "c.npy", "--no-progress"], tmp_path)
    assert status == 0 and shown == "" and out
    status, out, shown = _run_with_stderr_on_a_terminal(["convert", "a.bin", "c.npy", "--quiet"], tmp_path)
    assert status == 0 and shown == "" and out == ""
    result = run("convert", "a.bin", "d.npy", "--progress", cwd=tmp_path)
    assert result.returncode == 0 and "100.0%" in result.stderr


def test_progress_bar_fits_the_terminal(capsys):
    class Narrow:
        def __init__(self):
            self.text = ""

        def write(self, text):
            self.text += text

        def flush(self):
            pass

        def fileno(self):
            raise OSError

    stream = Narrow()
    bar = _convert.ProgressBar(1000, "x.npy", stream)
    bar.update(500, force=True)
    bar.finish(1000, True)
    lines = [line for line in re.split(r"[\r\n]", stream.text) if line]
    assert lines and all(len(line) <= 80 for line in lines)
    assert "50.0%" in lines[0] and "100.0%" in lines[-1] and stream.text.endswith("\n")


# --- failures mid-way: truncation and Ctrl-C ---------------------------------------------

_HOOKED = """
import os, signal, sys
import numpy as np
from mmap_array import _convert
from mmap_array._cli import main
_convert._CHUNK_BYTES = 1 << 16
update = _convert.ProgressBar.update
def hooked(self, done, *, force=False):
    {action}
    update(self, done, force=force)
_convert.ProgressBar.update = hooked
open("out.npy", "wb").write(b"old")
np.arange(100_000, dtype=np.float64).tofile("src.bin")
status = main(["convert", "src.bin", "out.npy", "--progress"])
print(status, open("out.npy", "rb").read(), sorted(os.listdir(".")))
"""


def test_source_truncated_mid_conversion(tmp_path):
    code = _HOOKED.format(action='os.truncate("src.bin", 4096)')
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "b'old'", "['out.npy',", "'src.bin']"]
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("mmap-array convert: error: ")
    assert "src.bin" in errors[0] and "shrank" in errors[0] and "Traceback" not in result.stderr


def test_interrupt_leaves_the_old_destination(tmp_path):
    # Ctrl-C as a terminal user has it. A runner started as a shell's background job (or
    # under nohup) passes SIGINT down ignored, and Python then leaves it ignored: the
    # signal would be dropped and the conversion would finish.
    action = "signal.signal(signal.SIGINT, signal.default_int_handler); os.kill(os.getpid(), signal.SIGINT)"
    code = _HOOKED.format(action=action)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["130", "b'old'", "['out.npy',", "'src.bin']"]
    assert result.stderr.rstrip().endswith("mmap-array convert: interrupted") and "Traceback" not in result.stderr


# --- errors: one line, exit status 1 ----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.bin", "x.npy"], r"No such file or directory: 'missing\.bin'"),
        (["odd.bin", "x.npy"], r"'odd\.bin'.*not a multiple of itemsize 8.*default --dtype"),
        (["f.bin", "x.npy", "--dtype", "floot"], r"--dtype: data type 'floot' not understood"),
        (["f.bin", "x.npy", "--shape", "7,-1"], r"'f\.bin': 2 items do not fill --shape 7,-1"),
        (["f.bin", "x.npy", "--shape", "3"], r"'f\.bin'.*needs 24 bytes"),
        (["f.bin", "x.npy", "--shape", "a,b"], r"--shape must be integers"),
        (["f.bin", "x.npy", "--offset", "-8"], r"--offset must be at least 0"),
        (["m.safetensors", "x.npy"], r"'m\.safetensors' holds 2 arrays; pick one with --tensor NAME \(a, b\)"),
        (["m.safetensors", "x.npy", "--tensor", "c"], r"'m\.safetensors' has no array 'c'; it holds: a, b"),
        (["c.npz", "x.npy"], r"'c\.npz': member 'z' is compressed"),
        (["a.npy", "x.npz"], r"cannot write 'x\.npz': \.npz is not a destination format"),
        (["a.npy", "x.bin", "--shape", "4"], r"'a\.npy' is an \.npy file, whose header gives its layout; --shape is"),
        (["a.npy", "x.bin", "--tensor", "a"], r"--tensor picks an array of a safetensors or \.npz source"),
        (["a.npy", "x.npy", "--name", "w"], r"--name names the tensor of a safetensors destination"),
        (["a.npy", "x.npy", "--dtype", "int8"], r"casting 'a\.npy' from int64 to int8 is not allowed"),
        (["a.npy", "x.npy", "--dtype", "int8", "--astype", "int16"], r"disagree"),
        (["a.npy", "x.safetensors", "--astype", "complex128"], r"cannot write 'x\.safetensors'.*complex128"),
        (["a.npy", "x.safetensors", "--name", "__metadata__"], r"cannot name a safetensors tensor"),
        (["a.npy", "no/such/dir/x.npy"], r"No such file or directory"),
        (["bad.npy", "x.safetensors"], r"bad\.npy"),
        (["a.npy", "."], r"Is a directory"),
    ],
)
def test_errors_are_one_line_with_status_1(tmp_path, args, message):
    (tmp_path / "odd.bin").write_bytes(b"\0" * 13)
    (tmp_path / "f.bin").write_bytes(b"\0" * 16)
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY\x01\x00\x08\x00{'a': 1}")
    np.save(tmp_path / "a.npy", np.arange(4))
    save_file({"a": np.ones(2), "b": np.ones(3)}, str(tmp_path / "m.safetensors"))
    np.savez_compressed(tmp_path / "c.npz", z=np.arange(3))
    before = sorted(os.listdir(tmp_path))
    result = run("convert", *args, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mmap-array convert: error: "), result.stderr
    assert re.search(message, lines[0]), lines[0]
    assert result.stdout == "" and sorted(os.listdir(tmp_path)) == before


@pytest.mark.skipif(ml_dtypes is None, reason="ml_dtypes is not installed")
def test_bfloat16_to_npy_is_refused_rather_than_written_as_bytes(tmp_path):
    mmap_array.save_safetensors(tmp_path / "m.safetensors", {"w": np.ones(3, ml_dtypes.bfloat16)})
    result = run("convert", "m.safetensors", "w.npy", cwd=tmp_path)
    assert result.returncode == 1
    assert "an .npy header cannot record bfloat16" in result.stderr and "--dtype float32" in result.stderr
    assert not (tmp_path / "w.npy").exists()


# --- both entry points ------------------------------------------------------------------


def test_console_script_and_module_both_convert(tmp_path):
    np.arange(6.0).tofile(tmp_path / "a.bin")
    # The script installed beside this interpreter (a venv's), else the one on PATH.
    beside = Path(sys.executable).with_name("mmap-array")
    script = str(beside) if beside.exists() else shutil.which("mmap-array")
    by_script = subprocess.run([script, "convert", "a.bin", "s.npy", "--shape", "2,-1"], capture_output=True,
                               text=True, cwd=tmp_path, timeout=120)
    by_module = run("convert", "a.bin", "m.npy", "--shape", "2,-1", cwd=tmp_path)
    for result in (by_script, by_module):
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
    assert np.array_equal(np.load(tmp_path / "s.npy"), np.arange(6.0).reshape(2, 3))
    assert (tmp_path / "s.npy").read_bytes() == (tmp_path / "m.npy").read_bytes()


def test_a_summary_that_cannot_be_printed_says_the_destination_was_written(tmp_path):
    # stdout on a full device: the conversion itself succeeded, and the one error line
    # must say so rather than read as a failed conversion.
    values = np.arange(10.0)
    np.save(tmp_path / "a.npy", values)
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "mmap_array", "convert", str(tmp_path / "a.npy"), str(tmp_path / "b.npy")],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=300,
        )
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "b.npy' was written" in lines[0] and "No space left on device" in lines[0], lines
    assert np.array_equal(np.load(tmp_path / "b.npy"), values)
