"""Hostile .npy files: every malformation is a FormatError naming the file, never a crash."""

from __future__ import annotations

import struct

import numpy as np
import pytest

import mmap_array
from conftest import run_python

GOOD = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"


def npy(header: str | bytes, *, version: tuple[int, int] = (1, 0), data: bytes = b"\0" * 16, length: int | None = None) -> bytes:
    """An .npy file with ``header`` (padded like NumPy's unless ``length`` overrides it)."""
    text = header.encode("latin1") if isinstance(header, str) else header
    size_format = "<H" if version[0] == 1 else "<I"
    preamble = 8 + struct.calcsize(size_format)
    text += b" " * (-(preamble + len(text) + 1) % 64) + b"\n"
    declared = len(text) if length is None else length
    return b"\x93NUMPY" + bytes(version) + struct.pack(size_format, declared) + text + data


CASES = {
    # the signature and the preamble
    "not-numpy": (b"NOTNUMPY" + b"\0" * 100, "bad_magic"),
    "short-magic": (b"\x93NUM", "truncated"),  # what is there matches the magic: cut short
    "magic-only": (b"\x93NUMPY", "truncated"),
    "no-length": (b"\x93NUMPY\x01\x00\x10", "truncated"),
    "version-4": (npy(GOOD, version=(4, 0)), "unsupported_version"),
    "version-1.1": (npy(GOOD, version=(1, 1)), "unsupported_version"),
    "version-0": (npy(GOOD, version=(0, 0)), "unsupported_version"),
    # the header's length
    "length-past-end": (npy(GOOD, length=5000, data=b""), "truncated"),
    "length-over-cap": (npy(GOOD, version=(2, 0), length=2**31, data=b""), "header_too_large"),
    "length-max-u32": (npy(GOOD, version=(2, 0), length=2**32 - 1, data=b""), "header_too_large"),
    # the dict literal
    "unterminated-dict": (npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), "), "bad_syntax"),
    "unterminated-string": (npy("{'descr': '<f8, 'fortran_order': False, 'shape': (2,)}"), "bad_syntax"),
    "not-a-dict": (npy("['descr', '<f8']"), "bad_value"),
    "call": (npy("{'descr': __import__('os').system('true'), 'fortran_order': False, 'shape': (2,)}"), "bad_syntax"),
    "float-dim": (npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2.0,)}"), "bad_syntax"),
    "negative-dim": (npy("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,)}"), "bad_value"),
    "depth-bomb": (npy("{'descr': " + "[" * 5000 + "}"), "bad_syntax"),
    "garbage-bytes": (npy(b"{\xff\xfe\x00'descr'}"), "bad_syntax"),
    # the keys
    "missing-shape": (npy("{'descr': '<f8', 'fortran_order': False}"), "bad_keys"),
    "extra-key": (npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}"), "bad_keys"),
    "duplicate-key": (npy("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}"), "bad_keys"),
    "int-key": (npy("{1: '<f8', 'fortran_order': False, 'shape': (2,)}"), "bad_keys"),
    # the values
    "fortran-not-bool": (npy("{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}"), "bad_value"),
    "shape-list": (npy("{'descr': '<f8', 'fortran_order': False, 'shape': [2]}"), "bad_value"),
    "shape-str": (npy("{'descr': '<f8', 'fortran_order': False, 'shape': '2'}"), "bad_value"),
    "descr-int": (npy("{'descr': 8, 'fortran_order': False, 'shape': (2,)}"), "bad_dtype"),
    # found by the property-based tests: NumPy reads an L after a number in 1.0 and 2.0
    # headers only, and never a lower-case l
    "long-suffix-in-v3": (npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2L,), }", version=(3, 0)), "bad_syntax"),
    "lower-case-long-suffix": (npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2l,), }"), "bad_syntax"),
    "dim-over-u64": (npy("{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551616,)}"), "bad_value"),
    # the dtype
    "object": (npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,)}"), "object_dtype"),
    "object-in-record": (npy("{'descr': [('a', '<f8'), ('b', '|O')], 'fortran_order': False, 'shape': (1,)}"), "object_dtype"),
    "unknown-kind": (npy("{'descr': '<q8', 'fortran_order': False, 'shape': (2,)}"), "bad_dtype"),
    "bad-size": (npy("{'descr': '<f3', 'fortran_order': False, 'shape': (2,)}"), "bad_dtype"),
    "empty-descr": (npy("{'descr': '', 'fortran_order': False, 'shape': (2,)}"), "bad_dtype"),
    "duplicate-field": (npy("{'descr': [('a', '<f4'), ('a', '<f4')], 'fortran_order': False, 'shape': (2,)}"), "bad_dtype"),
    "huge-unicode": (npy("{'descr': '<U4611686018427387904', 'fortran_order': False, 'shape': (1,)}"), "size_overflow"),
    # sizes
    "shape-overflow": (npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}"), "size_overflow"),
    "bytes-overflow": (npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,)}"), "size_overflow"),
    "zero-size-but-too-big": (npy("{'descr': '|u1', 'fortran_order': False, 'shape': (0, 9223372036854775808)}", data=b""), "size_overflow"),
    "data-past-end": (npy("{'descr': '<f8', 'fortran_order': False, 'shape': (100,)}"), "out_of_bounds"),
    "data-one-short": (npy(GOOD, data=b"\0" * 15), "out_of_bounds"),
}


@pytest.mark.parametrize("name", CASES)
def test_each_malformation_is_a_format_error_with_its_reason(tmp_path, name):
    content, reason = CASES[name]
    path = tmp_path / f"{name}.npy"
    path.write_bytes(content)
    with pytest.raises(mmap_array.FormatError) as info:
        mmap_array.open(path, format="npy")
    assert info.value.reason == reason, str(info.value)
    assert isinstance(info.value, ValueError)
    assert info.value.filename == str(path) and str(path) in str(info.value)


def test_the_whole_corpus_in_a_child_that_survives(tmp_path):
    for name, (content, _) in CASES.items():
        (tmp_path / f"{name}.npy").write_bytes(content)
    result = run_python(
        """
        import glob, mmap_array
        reasons = set()
        for path in sorted(glob.glob("*.npy")):
            for mode in ("r", "c", "r+"):
                try:
                    mmap_array.open(path, mode, format="npy")
                except mmap_array.FormatError as error:
                    reasons.add(error.reason)
        print(len(reasons))
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len({reason for _, reason in CASES.values()})


def test_trailing_bytes_after_the_data_are_allowed_as_numpy_allows_them(tmp_path):
    path = tmp_path / "extra.npy"
    path.write_bytes(npy(GOOD, data=np.array([1.5, 2.5]).tobytes() + b"junk"))
    assert mmap_array.open(path).get_array().tolist() == [1.5, 2.5]
    assert np.load(path).tolist() == [1.5, 2.5]


@pytest.mark.parametrize("version", [(1, 0), (2, 0)])
def test_python2_long_suffix_is_read(tmp_path, version):
    path = tmp_path / "py2.npy"
    path.write_bytes(npy("{'descr': [('a', '<f4', (1L,))], 'fortran_order': False, 'shape': (2L,), }", version=version))
    assert mmap_array.open(path).shape == (2,)
    with pytest.warns(UserWarning, match="Python 2"):  # NumPy reads it too, and says so
        assert np.load(path).shape == (2,)
