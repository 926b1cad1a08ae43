"""Property-based tests (hypothesis): every writer round-trips bit for bit, and no file crashes.

Two properties over generated inputs, beside the hand-picked cases of the other modules:

* Round trips: a random array (any dtype of the supported matrix, in both byte orders,
  records, strings, bool, complex; any shape, zero-size and 0-d included; C or Fortran
  order) written by each writer reads back with the same dtype, shape and bytes.
* Hostile bytes: a valid .npy, safetensors or .npz file mutated byte by byte (bits
  flipped, bytes replaced, inserted or deleted, integers planted, numbers and keywords
  of a header changed, cut short or extended) either opens and reads completely, or
  raises ``mmap_array.FormatError`` (a ``ValueError``) with its filename and reason. Any
  other exception fails the test; a crash takes pytest down with it, and the file that
  caused it is the last one written to the ``properties`` directory under pytest's
  basetemp. What opens, NumPy must read the same way.

Values are random bytes viewed as the dtype, so NaN payloads, non-canonical bools and
invalid code points are all in play: "the same" means the same bytes, not equal values.
"""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import mmap_array

# Moderate: the whole module runs in well under a minute. deadline=None: a first example
# that pays for a page-cache miss is not a failure.
PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    print_blob=True,
    # No example database: it would be a .hypothesis/ directory in the checkout, and a
    # failure is reproduced from the printed blob instead.
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MUTATION_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=200)

# NumPy says so each time it writes a non-Latin-1 field name, which is the point here.
pytestmark = pytest.mark.filterwarnings("ignore:Stored array in format 3.0:UserWarning")

MAX_ITEMS = 64  # elements per generated array: enough for every layout, small enough to be quick


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("properties")


# --- dtypes ---------------------------------------------------------------------------------

NUMBER_CODES = ["i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8", "c16"]
if np.dtype(np.longdouble).itemsize > 8:
    NUMBER_CODES += ["f%d" % np.dtype(np.longdouble).itemsize, "c%d" % np.dtype(np.clongdouble).itemsize]
TIME_UNITS = ["ns", "us", "ms", "s", "m", "h", "D", "W", "M", "Y"]

byte_orders = st.sampled_from("<>")

scalar_dtypes = st.one_of(
    st.sampled_from([np.dtype("?"), np.dtype("i1"), np.dtype("u1")]),
    st.builds(lambda order, code: np.dtype(order + code), byte_orders, st.sampled_from(NUMBER_CODES)),
    st.builds(lambda order, kind, unit: np.dtype(f"{order}{kind}8[{unit}]"), byte_orders,
              st.sampled_from("Mm"), st.sampled_from(TIME_UNITS)),
    st.builds(lambda n: np.dtype(f"S{n}"), st.integers(1, 9)),
    st.builds(lambda order, n: np.dtype(f"{order}U{n}"), byte_orders, st.integers(1, 4)),
    st.builds(lambda n: np.dtype(f"V{n}"), st.integers(1, 9)),
)

# Field names: ASCII and beyond (non-Latin-1 names make NumPy write a version 3.0 header).
field_names = st.text(st.sampled_from("abxyz_09é\u03c0\u4e2d "), min_size=1, max_size=4)


@st.composite
def record_dtypes(draw, children) -> np.dtype:
    """A record of 1 to 3 fields of ``children`` dtypes: packed, aligned, or with gaps."""
    names = draw(st.lists(field_names, min_size=1, max_size=3, unique=True))
    fields = []
    for name in names:
        child = draw(children)
        sub_shape = draw(st.sampled_from([(), (), (2,), (1, 2)]))
        fields.append((name, child, sub_shape) if sub_shape else (name, child))
    layout = draw(st.sampled_from(["packed", "aligned", "gaps"]))
    if layout != "gaps":
        return np.dtype(fields, align=layout == "aligned")
    # Explicit offsets in increasing order with holes between the fields and at the end:
    # the holes' bytes are part of each item and must survive too.
    packed = np.dtype(fields)
    assert packed.names is not None and packed.fields is not None  # a record dtype has both
    field_types = packed.fields
    offsets, at = [], 0
    for name in packed.names:
        at += draw(st.integers(0, 3))
        offsets.append(at)
        at += field_types[name][0].itemsize
    return np.dtype({
        "names": list(packed.names),
        "formats": [field_types[name][0] for name in packed.names],
        "offsets": offsets,
        "itemsize": at + draw(st.integers(0, 3)),
    })


npy_dtypes = st.recursive(scalar_dtypes, record_dtypes, max_leaves=6)

# What safetensors holds: NumPy's types in either byte order (written little-endian) and
# ml_dtypes' BF16 and FP8 types.
SAFETENSORS_NUMPY = ["?", "u1", "i1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8"]
SAFETENSORS_ML = [np.dtype(getattr(ml_dtypes, name)) for name in (
    "bfloat16", "float8_e5m2", "float8_e4m3fn", "float8_e8m0fnu", "float8_e4m3fnuz", "float8_e5m2fnuz",
) if hasattr(ml_dtypes, name)]

safetensors_dtypes = st.one_of(
    st.builds(lambda order, code: np.dtype(code).newbyteorder(order) if np.dtype(code).itemsize > 1 else np.dtype(code),
              byte_orders, st.sampled_from(SAFETENSORS_NUMPY)),
    st.sampled_from(SAFETENSORS_ML),
)


# --- arrays ---------------------------------------------------------------------------------


@st.composite
def shapes(draw) -> tuple[int, ...]:
    """0 to 4 dimensions (0-d and zero-size included), at most MAX_ITEMS elements."""
    shape = draw(st.lists(st.integers(0, 5), max_size=4))
    while int(np.prod(shape)) > MAX_ITEMS:
        shape[shape.index(max(shape))] -= 1
    return tuple(shape)


@st.composite
def arrays(draw, dtypes=npy_dtypes) -> np.ndarray:
    """Random bytes as an array of a drawn dtype and shape, in C or Fortran order."""
    dtype, shape = draw(dtypes), draw(shapes())
    count = int(np.prod(shape))
    seed = draw(st.integers(0, 2**32 - 1))
    raw = np.random.default_rng(seed).integers(0, 256, size=count * dtype.itemsize, dtype=np.uint8)
    array = raw.view(dtype).reshape(shape)
    return np.asfortranarray(array) if draw(st.sampled_from("CF")) == "F" else array


def is_fortran(array: np.ndarray) -> bool:
    return bool(array.flags.f_contiguous and not array.flags.c_contiguous)


def leaves(array: np.ndarray):
    """The array's fields, recursively, down to those that are not records."""
    if array.dtype.names is None:
        yield array
        return
    for name in array.dtype.names:
        yield from leaves(array[name])


def assert_bit_identical(got: np.ndarray, expected: np.ndarray) -> None:
    """Same dtype (byte order included), shape and bytes, field by field.

    Field by field, because the bytes of a record's padding are not data to NumPy: its
    copies of such records (``tobytes`` of a Fortran-ordered array, ``np.savez``, ``nditer``)
    leave them uninitialised, so even ``a.tobytes() == a.tobytes()`` can be false.
    """
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.dtype.str == expected.dtype.str  # byte order kept
    assert got.shape == expected.shape
    for got_leaf, expected_leaf in zip(leaves(got), leaves(expected), strict=True):
        assert got_leaf.tobytes() == expected_leaf.tobytes()


# Names of tensors: any non-empty text (lone surrogates cannot be encoded as UTF-8). Of
# .npz members the same without '/', which would put the member in a zip directory, and
# without NUL, at which Python's zipfile cuts a member's name (the NUL of "\0" leaves the
# name "", without ".npy", which np.load still lists and we skip as not an .npy member).
tensor_names = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=8).filter(
    lambda name: name != "__metadata__")
member_names = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="/\0"), max_size=8)


# --- (a) round trips ------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(array=arrays())
def test_save_npy_reads_back_bit_identical(workdir, array):
    path = workdir / "round_trip.npy"
    mmap_array.save(path, array)
    with mmap_array.open(path) as mm:
        got = mm.get_array()
        assert mm.format == "npy" and mm.shape == array.shape and mm.dtype == array.dtype
    assert_bit_identical(got, array)
    assert not got.flags.owndata and not got.flags.writeable  # a view of the mapping
    assert is_fortran(got) == is_fortran(array)
    assert_bit_identical(np.load(path), array)  # and NumPy reads the same


@PROPERTY_SETTINGS
@given(array=arrays())
def test_numpys_npy_files_read_bit_identical(workdir, array):
    path = workdir / "numpy.npy"
    np.save(path, array)
    with mmap_array.open(path) as mm:
        got = mm.get_array()
    assert_bit_identical(got, array)
    assert is_fortran(got) == is_fortran(array)


@PROPERTY_SETTINGS
@given(array=arrays())
def test_save_raw_reads_back_bit_identical(workdir, array):
    path = workdir / "round_trip.raw"
    mmap_array.save(path, array, format="raw")
    with mmap_array.open(path, dtype=array.dtype) as mm:
        got = mm.get_array()
    assert_bit_identical(got, array.reshape(-1))


@PROPERTY_SETTINGS
@given(array=arrays(st.sampled_from([np.dtype("<f8"), np.dtype(">f8")])))
def test_write_binary_reads_back_bit_identical(workdir, array):
    path = workdir / "round_trip.bin"
    mmap_array.write_binary(path, array)
    with mmap_array.MemoryMappedArray(path) as mm:
        got = mm.get_array()
    # native float64 in C order; a big-endian input is byte-swapped, never converted
    expected = array.astype("=f8").reshape(-1)
    assert_bit_identical(got, expected)


@st.composite
def named_arrays(draw, dtypes, names, min_size=0) -> dict[str, np.ndarray]:
    return {name: draw(arrays(dtypes)) for name in draw(st.lists(names, min_size=min_size, max_size=4, unique=True))}


metadata_dicts = st.none() | st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3)


@PROPERTY_SETTINGS
@given(tensors=named_arrays(safetensors_dtypes, tensor_names), metadata=metadata_dicts)
def test_save_safetensors_reads_back_bit_identical(workdir, tensors, metadata):
    path = workdir / "round_trip.safetensors"
    mmap_array.save_safetensors(path, tensors, metadata)
    with mmap_array.open_safetensors(path) as weights:
        assert sorted(weights.keys()) == sorted(tensors)
        assert weights.metadata == (metadata or {})
        for name, array in tensors.items():
            little = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
            assert_bit_identical(weights[name], array.astype(little))


@PROPERTY_SETTINGS
@given(arrays_by_name=named_arrays(npy_dtypes, member_names, min_size=1))
def test_numpys_savez_reads_back_bit_identical(workdir, arrays_by_name):
    path = workdir / "round_trip.npz"
    np.savez(path, **arrays_by_name)  # stored, not compressed
    with mmap_array.open_npz(path) as bundle:
        assert sorted(bundle.keys()) == sorted(arrays_by_name)
        for name, array in arrays_by_name.items():
            got = bundle[name]
            assert_bit_identical(got, array)
            assert not got.flags.owndata
            assert is_fortran(got) == is_fortran(array)


# --- (b) mutated files ----------------------------------------------------------------------

# Integers worth planting over a length, count or offset field.
BOUNDARY_INTEGERS = [0, 1, 2, 7, 8, 63, 64, 127, 128, 255, 256, 2**15, 2**16 - 1, 2**16, 2**31 - 1,
                     2**31, 2**32 - 1, 2**32, 2**53, 2**63 - 1, 2**63, 2**64 - 1]


# The kinds of edit, weighted: mostly in-place edits, which keep the file's structure
# (and so reach deeper checks) more often than cuts and insertions, which shift it.
# "digit" and "token" know a little of the formats: they change a number, a dtype or a
# keyword inside a header and keep its syntax, so the semantic checks (sizes, offsets,
# tiling, dtypes) get their share, not only the parsers' syntax errors.
EDITS = ["flip"] * 2 + ["replace"] * 2 + ["integer"] * 2 + ["digit"] * 3 + ["token"] * 2 + [
    "insert", "delete", "truncate", "extend"]
TOKENS = [
    b"True", b"False", b"()", b"(0,)", b"(1,)", b"'<f8'", b"'|u1'", b"'>i2'", b"'|b1'", b"'<U2'",
    b"'|S3'", b"'|V4'", b"'|O'", b"'<M8[ns]'", b"'<c16'", b"'descr'", b"'shape'", b"'fortran_order'",
    b'"F32"', b'"F64"', b'"F16"', b'"BF16"', b'"I8"', b'"U8"', b'"BOOL"', b'"C64"', b'"F8_E4M3"',
    b'"F4"', b'"F6_E2M3"', b'"dtype"', b'"shape"', b'"data_offsets"', b'"__metadata__"', b"[]", b"{}",
    b"PK\x01\x02", b"PK\x03\x04", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07", b".npy", b"\x93NUMPY",
]


def occurrences(data: bytearray, token: bytes):
    at = data.find(token)
    while at >= 0:
        yield at
        at = data.find(token, at + 1)


@st.composite
def mutations(draw, data: bytes) -> bytes:
    """``data`` with 1 to 3 edits: each a flipped bit, a replaced byte, a changed digit or
    token, an inserted or deleted run, a little-endian integer planted, a cut or an extension."""
    out = bytearray(data)
    # Positions come from a seeded generator, spread evenly over the file: hypothesis's own
    # integers favour small values, which would pile the edits onto the magic bytes.
    spread = random.Random(draw(st.integers(0, 2**32 - 1)))
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 2, 3]))):
        kind = draw(st.sampled_from(EDITS))
        at = spread.randrange(len(out)) if out else 0
        if kind == "flip" and out:
            out[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "replace" and out:
            out[at] = draw(st.integers(0, 255))
        elif kind == "digit":
            digits = [i for i, byte in enumerate(out) if 0x30 <= byte <= 0x39]
            if digits:
                where = spread.choice(digits)
                new = str(draw(st.sampled_from([0, 1, 2, 9]) | st.integers(0, 2**64))).encode()
                replace = draw(st.booleans())
                out[where : where + (1 if replace else 0)] = new
        elif kind == "token":
            found = [(i, len(t)) for t in TOKENS for i in occurrences(out, t)]
            if found:
                where, length = spread.choice(found)
                out[where : where + length] = draw(st.sampled_from(TOKENS))
        elif kind == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del out[at : at + draw(st.integers(1, 8))]
        elif kind == "integer":
            width = draw(st.sampled_from([2, 4, 8]))
            value = draw(st.sampled_from(BOUNDARY_INTEGERS) | st.integers(0, len(out) + 16)) % (1 << (8 * width))
            out[at : at + width] = value.to_bytes(width, "little")
        elif kind == "truncate":
            del out[at:]
        elif kind == "extend":
            out += draw(st.binary(min_size=1, max_size=64))
    return bytes(out)


def assert_is_a_proper_format_error(error: mmap_array.FormatError, path: Path) -> None:
    event(f"FormatError: {error.reason}")  # --hypothesis-show-statistics tallies them
    assert isinstance(error, ValueError)
    assert error.filename == str(path), str(error)
    assert isinstance(error.reason, str) and error.reason, str(error)


def read_all(array: np.ndarray) -> None:
    """Touch every byte of the array (through a copy, so every page is faulted in)."""
    array.tobytes()


def write_case(workdir: Path, name: str, data: bytes) -> Path:
    path = workdir / name
    path.write_bytes(data)
    return path


small_arrays = arrays()


@MUTATION_SETTINGS
@given(data=st.data(), array=small_arrays)
def test_mutated_npy_opens_or_raises_format_error(workdir, data, array):
    mmap_array.save(workdir / "valid.npy", array)
    path = write_case(workdir, "mutated.npy", data.draw(mutations((workdir / "valid.npy").read_bytes())))
    try:
        with mmap_array.open(path, format="npy") as mm:
            arr = mm.get_array()
            assert arr.dtype == mm.dtype and arr.shape == mm.shape
            read_all(arr)
    except mmap_array.FormatError as error:
        assert_is_a_proper_format_error(error, path)
    else:
        event("opened and read")
        # Whatever we accept, NumPy reads the same way (it accepts more: never less).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert_bit_identical(arr, np.load(path))


@MUTATION_SETTINGS
@given(
    data=st.data(),
    tensors=named_arrays(safetensors_dtypes, tensor_names, min_size=1),
    metadata=metadata_dicts,
)
def test_mutated_safetensors_opens_or_raises_format_error(workdir, data, tensors, metadata):
    mmap_array.save_safetensors(workdir / "valid.safetensors", tensors, metadata)
    path = write_case(workdir, "mutated.safetensors", data.draw(mutations((workdir / "valid.safetensors").read_bytes())))
    try:
        with mmap_array.open_safetensors(path) as weights:
            dict(weights.metadata)
            weights.info()
            for name in weights.keys():
                read_all(weights[name])
        event("opened and read")
    except mmap_array.FormatError as error:
        assert_is_a_proper_format_error(error, path)


@MUTATION_SETTINGS
@given(
    data=st.data(),
    arrays_by_name=named_arrays(npy_dtypes, member_names, min_size=1),
    compressed=st.booleans(),
)
def test_mutated_npz_opens_or_raises_format_error(workdir, data, arrays_by_name, compressed):
    valid = workdir / "valid.npz"
    (np.savez_compressed if compressed else np.savez)(valid, **arrays_by_name)
    path = write_case(workdir, "mutated.npz", data.draw(mutations(valid.read_bytes())))
    read = {}
    try:
        with mmap_array.open_npz(path) as bundle:
            bundle.info()
            for name in bundle.keys():
                try:
                    read[name] = bundle[name]
                    read_all(read[name])
                except mmap_array.FormatError as error:  # a compressed member, refused on access
                    assert_is_a_proper_format_error(error, path)
    except mmap_array.FormatError as error:
        assert_is_a_proper_format_error(error, path)
        return
    event("opened and read")
    # Where NumPy reads a member too, it reads the same array from the same bytes. (It
    # refuses more: it checks CRC-32s, which are not verified here, and that the names in
    # the local and central headers agree.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            archive = np.load(path)
        except Exception:  # what NumPy refuses is not the question here
            return
        with archive:
            for name, array in read.items():
                try:
                    theirs = archive[name]
                except Exception:
                    continue
                assert_bit_identical(array, theirs)

