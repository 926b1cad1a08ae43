""".npz archives: stored members mapped in place, compressed ones refused with a reason."""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
import pytest

import mmap_array
from conftest import run_python

ARRAYS = {
    "floats": np.linspace(0, 1, 11),
    "grid": np.arange(12, dtype=">i4").reshape(3, 4),
    "fortran": np.asfortranarray(np.arange(6, dtype="<u2").reshape(2, 3)),
    "record": np.zeros(3, dtype=[("a", "<f4"), ("b", "S2")]),
    "scalar": np.array(2.5),
    "empty": np.zeros((0, 5)),
}


def test_savez_members_map_without_copies(tmp_path):
    np.savez(tmp_path / "b.npz", **ARRAYS)
    with mmap_array.open_npz(tmp_path / "b.npz") as bundle:
        assert sorted(bundle.keys()) == sorted(ARRAYS) == sorted(np.load(tmp_path / "b.npz").files)
        raw = (tmp_path / "b.npz").read_bytes()
        for name, expected in ARRAYS.items():
            got = bundle[name]
            assert got.dtype == expected.dtype and got.shape == expected.shape, name
            np.testing.assert_array_equal(got, expected)
            assert not got.flags.owndata and not got.flags.writeable
            row = next(row for row in bundle.info() if row["name"] == name)
            # the array sits at its offset inside the zip file, byte for byte
            order = "F" if expected.flags.f_contiguous and not expected.flags.c_contiguous else "C"
            assert raw[row["offset"] : row["offset"] + row["nbytes"]] == expected.tobytes(order=order)
        assert bundle.format == "npz" and bundle.metadata == {}


def test_positional_savez_names(tmp_path):
    np.savez(tmp_path / "p.npz", np.arange(3), np.ones(2))
    with mmap_array.open_npz(tmp_path / "p.npz") as bundle:
        assert bundle.keys() == ["arr_0", "arr_1"]


def test_compressed_members_are_listed_and_refused_with_a_reason(tmp_path):
    np.savez_compressed(tmp_path / "c.npz", x=np.arange(100))
    with mmap_array.open_npz(tmp_path / "c.npz") as bundle:
        assert bundle.keys() == ["x"] and "x" in bundle
        assert bundle.info()[0]["dtype"] is None
        with pytest.raises(mmap_array.FormatError) as info:
            bundle["x"]
        assert info.value.reason == "compressed_member"
        assert "'x'" in str(info.value) and "np.load" in str(info.value)


def test_zip64_archives_read(tmp_path):
    path = tmp_path / "z64.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in (("a", np.arange(5.0)), ("b", np.eye(2))):
            buffer = io.BytesIO()
            np.save(buffer, array)
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                member.write(buffer.getvalue())
    assert b"PK\x06\x06" in path.read_bytes() or b"\x01\x00" in path.read_bytes()
    with mmap_array.open_npz(path) as bundle:
        np.testing.assert_array_equal(bundle["a"], np.arange(5.0))
        np.testing.assert_array_equal(bundle["b"], np.eye(2))


def test_other_members_are_skipped(tmp_path):
    path = tmp_path / "mixed.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
        buffer = io.BytesIO()
        np.save(buffer, np.arange(3))
        archive.writestr("x.npy", buffer.getvalue())
    with mmap_array.open_npz(path) as bundle:
        assert bundle.keys() == ["x"]


def test_copy_on_write_mode(tmp_path):
    np.savez(tmp_path / "b.npz", x=np.zeros(3))
    before = (tmp_path / "b.npz").read_bytes()
    with mmap_array.open_npz(tmp_path / "b.npz", "c") as bundle:
        bundle["x"][:] = 1.0
        assert bundle["x"].tolist() == [1.0, 1.0, 1.0]
    assert (tmp_path / "b.npz").read_bytes() == before


def _corrupt(tmp_path, edit) -> bytes:
    np.savez(tmp_path / "good.npz", x=np.arange(4.0))
    return edit(bytearray((tmp_path / "good.npz").read_bytes()))


def _eocd(data: bytearray) -> int:
    return data.rindex(b"PK\x05\x06")


def _u32(data: bytearray, at: int, value: int) -> bytearray:
    """``data`` with the little-endian 32-bit field at ``at`` set to ``value``."""
    data[at : at + 4] = struct.pack("<I", value)
    return data


# Field offsets from the zip specification: the central directory's offset sits 16 bytes
# into the end-of-central-directory record, a member's local header offset 42 bytes into
# its central directory entry.
CENTRAL_DIRECTORY_OFFSET = 16
LOCAL_HEADER_OFFSET = 42


HOSTILE = {
    # no end-of-central-directory record at all: not a zip archive
    "empty-file": (lambda d: b"", "bad_magic"),
    "no-eocd": (lambda d: d[: _eocd(d)], "bad_magic"),
    "truncated-tail": (lambda d: d[:-10], "bad_magic"),
    "directory-past-end": (lambda d: _u32(d, _eocd(d) + CENTRAL_DIRECTORY_OFFSET, 10**9), "bad_archive"),
    "member-offset-past-end": (
        lambda d: _u32(d, d.index(b"PK\x01\x02") + LOCAL_HEADER_OFFSET, 10**9),
        "bad_archive",
    ),
    "bad-local-signature": (lambda d: b"XX" + d[2:], "bad_archive"),
    "member-npy-garbage": (lambda d: d.replace(b"\x93NUMPY", b"\x93NUMPZ", 1), "bad_magic"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_archives_are_format_errors(tmp_path, name):
    edit, reason = HOSTILE[name]
    path = tmp_path / f"{name}.npz"
    path.write_bytes(bytes(_corrupt(tmp_path, edit)))
    with pytest.raises(mmap_array.FormatError) as info:
        with mmap_array.open_npz(path) as bundle:
            bundle["x"]
    assert info.value.reason == reason, str(info.value)
    assert info.value.filename == str(path)


def test_hostile_archives_in_a_child_that_survives(tmp_path):
    for name, (edit, _) in HOSTILE.items():
        (tmp_path / f"{name}.npz").write_bytes(bytes(_corrupt(tmp_path, edit)))
    result = run_python(
        """
        import glob, mmap_array
        count = 0
        for path in sorted(glob.glob("*.npz")):
            try:
                with mmap_array.open_npz(path) as bundle:
                    [bundle[name] for name in bundle]
            except mmap_array.FormatError:
                count += 1
        print(count)
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(HOSTILE)
