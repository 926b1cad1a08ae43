"""Hostile safetensors files: every malformation is a FormatError naming the file."""

from __future__ import annotations

import struct

import pytest

import mmap_array
from conftest import run_python


def st(header: str | bytes, data: bytes = b"", *, length: int | None = None) -> bytes:
    """A safetensors file: 8-byte length (``length`` overrides it), header, data."""
    text = header.encode() if isinstance(header, str) else header
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def tensor(dtype="U8", shape="[2]", offsets="[0, 2]") -> str:
    return f'{{"dtype": "{dtype}", "shape": {shape}, "data_offsets": {offsets}}}'


CASES = {
    # the length prefix
    "empty-file": (b"", "truncated"),
    "short-length": (b"\x08\x00\x00", "truncated"),
    "length-past-end": (st('{"a": ' + tensor() + "}", length=1000), "truncated"),
    "length-over-cap": (st("{}", length=100_000_001), "header_too_large"),
    "length-u64-max": (st("{}", length=2**64 - 1), "header_too_large"),
    # UTF-8 and JSON
    "invalid-utf8": (st(b'{"\xff": ' + tensor().encode() + b"}", b"\0\0"), "bad_syntax"),
    "overlong-utf8": (st(b'{"\xc0\xaf": ' + tensor().encode() + b"}", b"\0\0"), "bad_syntax"),
    "lone-surrogate-escape": (st('{"\\ud800": ' + tensor() + "}", b"\0\0"), "bad_syntax"),
    "not-json": (st("{this is not json}"), "bad_syntax"),
    "trailing-comma": (st('{"a": ' + tensor() + ",}", b"\0\0"), "bad_syntax"),
    "top-level-array": (st("[]"), "bad_value"),
    "top-level-nest": (st("[" * 100_000), "bad_value"),
    # The reader checks each value's type as it descends, so nesting stops at the first
    # value of the wrong type: a depth bomb never gets deep.
    "depth-bomb": (st('{"a": {"shape": ' + "[" * 100_000), "bad_value"),
    "duplicate-tensor": (st('{"a": ' + tensor() + ', "a": ' + tensor() + "}", b"\0\0"), "bad_keys"),
    "duplicate-inner-key": (st('{"a": {"dtype": "U8", "dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}', b"\0\0"), "bad_keys"),
    # a tensor's entry
    "tensor-not-object": (st('{"a": [1, 2]}'), "bad_value"),
    "missing-dtype": (st('{"a": {"shape": [2], "data_offsets": [0, 2]}}', b"\0\0"), "bad_keys"),
    "extra-key": (st('{"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2], "x": 1}}', b"\0\0"), "bad_keys"),
    "unknown-dtype": (st('{"a": ' + tensor(dtype="Q4") + "}", b"\0\0"), "bad_dtype"),
    "dtype-not-string": (st('{"a": ' + tensor(dtype="U8").replace('"U8"', "8") + "}", b"\0\0"), "bad_value"),
    "negative-dim": (st('{"a": ' + tensor(shape="[-2]") + "}", b"\0\0"), "bad_value"),
    "float-dim": (st('{"a": ' + tensor(shape="[2.0]") + "}", b"\0\0"), "bad_value"),
    "exponent-offset": (st('{"a": ' + tensor(offsets="[0, 2e0]") + "}", b"\0\0"), "bad_value"),
    "dim-over-u64": (st('{"a": ' + tensor(shape="[18446744073709551616]") + "}", b"\0\0"), "bad_value"),
    "shape-overflow": (st('{"a": ' + tensor(shape="[4294967296, 4294967296]", offsets="[0, 0]") + "}"), "size_overflow"),
    "three-offsets": (st('{"a": ' + tensor(offsets="[0, 1, 2]") + "}", b"\0\0"), "bad_value"),
    "begin-after-end": (st('{"a": ' + tensor(offsets="[2, 0]") + "}", b"\0\0"), "bad_value"),
    "size-mismatch": (st('{"a": ' + tensor(shape="[3]") + "}", b"\0\0"), "bad_value"),
    "odd-f4": (st('{"a": ' + tensor(dtype="F4", shape="[3]", offsets="[0, 1]") + "}", b"\0"), "bad_value"),
    # tiling
    "gap": (st('{"a": ' + tensor(offsets="[0, 2]") + ', "b": ' + tensor(offsets="[3, 5]") + "}", b"\0" * 5), "gap"),
    "overlap": (st('{"a": ' + tensor(offsets="[0, 2]") + ', "b": ' + tensor(offsets="[1, 3]") + "}", b"\0" * 3), "overlap"),
    "not-from-zero": (st('{"a": ' + tensor(offsets="[1, 3]") + "}", b"\0" * 3), "gap"),
    "trailing-bytes": (st('{"a": ' + tensor() + "}", b"\0" * 3), "trailing_bytes"),
    "data-short": (st('{"a": ' + tensor() + "}", b"\0"), "out_of_bounds"),
    "no-tensors-but-data": (st("{}", b"\0"), "trailing_bytes"),
    # metadata
    "metadata-not-string": (st('{"__metadata__": {"k": 1}}'), "bad_value"),
    "metadata-not-object": (st('{"__metadata__": "k"}'), "bad_value"),
    "metadata-twice": (st('{"__metadata__": {}, "__metadata__": {}}'), "bad_keys"),
}


@pytest.mark.parametrize("name", CASES)
def test_each_malformation_is_a_format_error_with_its_reason(tmp_path, name):
    content, reason = CASES[name]
    path = tmp_path / f"{name}.safetensors"
    path.write_bytes(content)
    with pytest.raises(mmap_array.FormatError) as info:
        mmap_array.open_safetensors(path)
    assert info.value.reason == reason, str(info.value)
    assert info.value.filename == str(path) and str(path) in str(info.value)


def test_the_whole_corpus_in_a_child_that_survives(tmp_path):
    for name, (content, _) in CASES.items():
        (tmp_path / f"{name}.safetensors").write_bytes(content)
    result = run_python(
        """
        import glob, mmap_array
        failures = 0
        for path in sorted(glob.glob("*.safetensors")):
            for mode in ("r", "c"):
                try:
                    mmap_array.open_safetensors(path, mode)
                except mmap_array.FormatError:
                    failures += 1
        print(failures)
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == 2 * len(CASES)


def test_padding_spaces_and_zero_size_tensors_are_fine(tmp_path):
    path = tmp_path / "ok.safetensors"
    path.write_bytes(st('{"e": ' + tensor(shape="[0]", offsets="[0, 0]") + ', "a": ' + tensor() + "}    ", b"\x05\x06"))
    with mmap_array.open_safetensors(path) as weights:
        assert weights["e"].shape == (0,) and weights["a"].tolist() == [5, 6]
