"""safetensors: zero-copy reading, atomic writing, interop with the safetensors package."""

from __future__ import annotations

import gc
import json
import struct

import ml_dtypes
import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

import mmap_array
from conftest import mappings_of, run_python

NUMPY_DTYPES = ["?", "u1", "i1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8", "<c8"]
SHAPES = [(), (0,), (5,), (3, 4), (2, 0, 3), (2, 3, 4)]


def _sample(dtype, shape, seed=5) -> np.ndarray:
    dtype = np.dtype(dtype)
    count = int(np.prod(shape))
    raw = np.random.default_rng(seed).integers(0, 256, size=count * dtype.itemsize, dtype=np.uint8)
    if dtype == np.bool_:
        raw &= 1
    return (raw.view(dtype) if count else np.zeros(0, dtype)).reshape(shape)


def _tensors() -> dict[str, np.ndarray]:
    return {f"t{i}.{np.dtype(d).name}.{'x'.join(map(str, s)) or 'scalar'}": _sample(d, s, i)
            for i, (d, s) in enumerate((d, s) for d in NUMPY_DTYPES for s in SHAPES)}


def test_files_written_by_safetensors_read_bit_identical(tmp_path):
    tensors = _tensors()
    save_file(tensors, tmp_path / "ref.safetensors", metadata={"format": "np", "note": "é"})
    with mmap_array.open_safetensors(tmp_path / "ref.safetensors") as weights:
        assert sorted(weights.keys()) == sorted(tensors)
        assert weights.metadata == {"format": "np", "note": "é"}
        for name, expected in tensors.items():
            got = weights[name]
            assert got.dtype == expected.dtype and got.shape == expected.shape, name
            assert got.tobytes() == expected.tobytes(), name
            assert not got.flags.writeable and not got.flags.owndata


def test_files_we_write_read_bit_identical_with_safetensors(tmp_path):
    tensors = _tensors()
    mmap_array.save_safetensors(tmp_path / "ours.safetensors", tensors, {"format": "np"})
    loaded = load_file(tmp_path / "ours.safetensors")
    assert sorted(loaded) == sorted(tensors)
    for name, expected in tensors.items():
        assert loaded[name].dtype == expected.dtype and loaded[name].tobytes() == expected.tobytes(), name
    with safe_open(tmp_path / "ours.safetensors", framework="np") as f:
        assert f.metadata() == {"format": "np"}


def test_written_layout_is_the_reference_layout(tmp_path):
    tensors = {"b": np.arange(3, dtype=np.int8), "a": np.ones(2, np.float64), "c": np.zeros(4, np.float16)}
    mmap_array.save_safetensors(tmp_path / "x.safetensors", tensors, {"k": "v"})
    save_file(tensors, tmp_path / "ref.safetensors", metadata={"k": "v"})
    ours, ref = (tmp_path / "x.safetensors").read_bytes(), (tmp_path / "ref.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", ours[:8])
    assert n % 8 == 0 and ours[8:9] == b"{"
    header = json.loads(ours[8 : 8 + n])
    assert list(header)[0] == "__metadata__"
    # Largest items first, then by name; each tensor aligned to its item size.
    order = sorted((info["data_offsets"][0], name) for name, info in header.items() if name != "__metadata__")
    assert [name for _, name in order] == ["a", "c", "b"]
    assert all(begin % tensors[name].itemsize == 0 for begin, name in order)
    assert ours[8 + n :] == ref[-len(ours[8 + n :]) :]  # the same data bytes as the reference writer


def test_big_endian_arrays_are_written_little_endian(tmp_path):
    values = np.arange(5, dtype=">i4")
    mmap_array.save_safetensors(tmp_path / "x.safetensors", {"v": values})
    assert load_file(tmp_path / "x.safetensors")["v"].tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("name", "dtype"),
    [("BF16", ml_dtypes.bfloat16), ("F8_E5M2", ml_dtypes.float8_e5m2), ("F8_E4M3", ml_dtypes.float8_e4m3fn),
     ("F8_E8M0", ml_dtypes.float8_e8m0fnu), ("F8_E4M3FNUZ", ml_dtypes.float8_e4m3fnuz),
     ("F8_E5M2FNUZ", ml_dtypes.float8_e5m2fnuz)],
)
def test_bf16_and_fp8_map_through_ml_dtypes(tmp_path, name, dtype):
    values = np.array([0.5, -1.0, 2.0, 0.25], dtype=np.float32).astype(dtype)
    mmap_array.save_safetensors(tmp_path / "x.safetensors", {"w": values})
    header = json.loads((tmp_path / "x.safetensors").read_bytes()[8:].split(b"}}")[0] + b"}}")
    assert header["w"]["dtype"] == name
    with mmap_array.open_safetensors(tmp_path / "x.safetensors") as weights:
        got = weights["w"]
        assert got.dtype == np.dtype(dtype) and got.tobytes() == values.tobytes()
        assert weights.info()[0]["file_dtype"] == name


def test_without_ml_dtypes_bf16_is_a_uint16_view_of_the_same_bits(tmp_path):
    values = np.array([1.0, -2.0, 3.5], dtype=ml_dtypes.bfloat16)
    fp8 = np.array([1.0, 0.5], dtype=ml_dtypes.float8_e4m3fn)
    mmap_array.save_safetensors(tmp_path / "x.safetensors", {"bf": values, "f8": fp8})
    result = run_python(
        """
        import sys
        sys.modules["ml_dtypes"] = None  # as if it were not installed
        import mmap_array
        with mmap_array.open_safetensors("x.safetensors") as weights:
            for name in ("bf", "f8"):
                array = weights[name]
                print(name, array.dtype, array.view("u1").tobytes().hex())
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"bf uint16 {values.tobytes().hex()}",
        f"f8 uint8 {fp8.tobytes().hex()}",
    ]


def _handmade(tmp_path, entries: dict, data: bytes):
    header = json.dumps(entries).encode()
    header += b" " * (-len(header) % 8)
    path = tmp_path / "hand.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


def test_sub_byte_types_come_out_as_their_packed_bytes(tmp_path):
    path = _handmade(tmp_path, {"f4": {"dtype": "F4", "shape": [2, 4], "data_offsets": [0, 4]},
                                "f6": {"dtype": "F6_E2M3", "shape": [4], "data_offsets": [4, 7]}},
                     bytes(range(7)))
    with mmap_array.open_safetensors(path) as weights:
        assert weights["f4"].dtype == np.uint8 and weights["f4"].tolist() == [0, 1, 2, 3]
        assert weights["f6"].tolist() == [4, 5, 6]
        assert {row["name"]: row["file_dtype"] for row in weights.info()} == {"f4": "F4", "f6": "F6_E2M3"}


def test_tensors_listed_out_of_offset_order_still_map(tmp_path):
    path = _handmade(tmp_path, {"second": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]},
                                "first": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}},
                     b"\x01\x02\x03\x04")
    with mmap_array.open_safetensors(path) as weights:
        assert weights.keys() == ["first", "second"]
        assert weights["second"].tolist() == [3, 4]


def test_container_reads_like_a_dict(tmp_path):
    tensors = {"a": np.arange(3.0), "b": np.ones((2, 2), np.int32)}
    mmap_array.save_safetensors(tmp_path / "x.safetensors", tensors)
    weights = mmap_array.open_safetensors(tmp_path / "x.safetensors")
    assert len(weights) == 2 and "a" in weights and "z" not in weights and 3 not in weights
    assert sorted(weights) == ["a", "b"]
    assert weights.get("z") is None and weights.get("z", 5) == 5
    assert sorted(name for name, _ in weights.items()) == ["a", "b"]
    assert len(weights.values()) == 2
    with pytest.raises(KeyError):
        weights["z"]
    assert weights.format == "safetensors" and weights.mode == "r" and weights.filename == str(tmp_path / "x.safetensors")
    info = {row["name"]: row for row in weights.info()}
    assert info["b"]["shape"] == (2, 2) and info["b"]["nbytes"] == 16 and info["b"]["dtype"] == np.int32
    data = (tmp_path / "x.safetensors").read_bytes()
    assert data[info["a"]["offset"] : info["a"]["offset"] + 24] == tensors["a"].tobytes()
    assert repr(weights).startswith("<MappedArrays ") and "arrays=2" in repr(weights)


def test_container_lifetime_matches_the_handle(tmp_path):
    mmap_array.save_safetensors(tmp_path / "x.safetensors", {"a": np.arange(1000.0)})
    path = tmp_path / "x.safetensors"
    weights = mmap_array.open_safetensors(path)
    kept = weights["a"][10:20]
    weights.close()
    assert weights.closed
    with pytest.raises(ValueError, match="closed"):
        weights["a"]
    assert mappings_of(path) == 1 and kept[0] == 10.0
    del kept
    gc.collect()
    assert mappings_of(path) == 0


def test_copy_on_write_and_read_write_modes(tmp_path):
    path = tmp_path / "x.safetensors"
    mmap_array.save_safetensors(path, {"a": np.zeros(4, np.float32)})
    before = path.read_bytes()
    with mmap_array.open_safetensors(path, "c") as weights:
        weights["a"][:] = 1.0
        assert weights["a"].tolist() == [1.0] * 4
    assert path.read_bytes() == before
    with mmap_array.open_safetensors(path, "r+") as weights:
        weights["a"][0] = 7.0
    assert load_file(path)["a"][0] == 7.0
    with pytest.raises(ValueError, match="save_safetensors"):
        mmap_array.open_safetensors(path, "w+")


def test_saving_over_a_mapped_file_keeps_its_mappings_intact(tmp_path):
    # safetensors#762: rewriting a file that is mapped must not change what the mapping sees.
    path = tmp_path / "model.safetensors"
    mmap_array.save_safetensors(path, {"w": np.full(10_000, 1.0)})
    with mmap_array.open_safetensors(path) as old:
        live = old["w"]
        mmap_array.save_safetensors(path, {"w": np.full(10, 2.0)})
        assert live.size == 10_000 and (live == 1.0).all()
    assert load_file(path)["w"].tolist() == [2.0] * 10


@pytest.mark.parametrize(
    ("tensors", "metadata", "error"),
    [
        ({"a": np.zeros(2, np.complex128)}, None, TypeError),
        ({"a": np.array(["x"])}, None, TypeError),
        ({"a": np.zeros(2, dtype=[("x", "f4")])}, None, TypeError),
        ({"a": np.array([None], dtype=object)}, None, TypeError),
        ({1: np.zeros(2)}, None, TypeError),
        ({"__metadata__": np.zeros(2)}, None, ValueError),
        ({"a": np.zeros(2)}, {"k": 1}, TypeError),
        ({"a": np.zeros(2)}, {1: "v"}, TypeError),
        ([("a", np.zeros(2))], None, TypeError),
    ],
)
def test_save_refuses_what_safetensors_cannot_hold(tmp_path, tensors, metadata, error):
    with pytest.raises(error):
        mmap_array.save_safetensors(tmp_path / "x.safetensors", tensors, metadata)
    assert not (tmp_path / "x.safetensors").exists()


def test_empty_file_of_no_tensors_round_trips(tmp_path):
    mmap_array.save_safetensors(tmp_path / "e.safetensors", {})
    assert load_file(tmp_path / "e.safetensors") == {}
    with mmap_array.open_safetensors(tmp_path / "e.safetensors") as weights:
        assert weights.keys() == [] and weights.metadata == {}
