"""Writes the sample .npy and .npz files of tests/data with NumPy itself.

Run from anywhere: python3 tests/data/make_samples.py. The files are small and
committed; rerunning rewrites them (their bytes depend only on the NumPy and
Python versions, noted in README.md). The C++ tests check the values below.
"""

import pathlib
import warnings
import zipfile

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
NPY = HERE / "npy"
NPZ = HERE / "npz"


def npy_samples():
    np.save(NPY / "f8_2x3.npy", np.arange(6, dtype="<f8").reshape(2, 3) * 0.5)
    np.save(NPY / "i2_big_endian.npy", np.array([1, -2, 300], dtype=">i2"))
    np.save(NPY / "bool.npy", np.array([True, False, True]))
    np.save(NPY / "u1_0x5.npy", np.zeros((0, 5), dtype="u1"))
    np.save(NPY / "c16_scalar.npy", np.array(1.5 - 2j, dtype="<c16"))
    np.save(NPY / "i4_fortran.npy", np.asfortranarray(np.arange(6, dtype="<i4").reshape(2, 3)))
    np.save(NPY / "U3.npy", np.array(["ab", "xyz"], dtype="<U3"))
    np.save(NPY / "M8_ns.npy", np.array([0, 1_000_000_000], dtype="<M8[ns]"))
    # align=True makes NumPy insert a padding field ('', '|V6') between id and value.
    record = np.dtype([("id", "<u2"), ("value", "<f8"), ("pair", "<i2", (2,)), ("tag", "S3")],
                      align=True)
    np.save(NPY / "record_aligned.npy",
            np.array([(1, 0.25, (-1, 2), b"ab"), (2, -8.0, (3, -4), b"xyz")], dtype=record))
    with open(NPY / "i8_v2.npy", "wb") as f:
        np.lib.format.write_array(f, np.array([7, -8, 9], dtype="<i8"), version=(2, 0))
    # A field name beyond latin-1 makes NumPy write version 3.0 (and warn that it does).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        np.save(NPY / "v3_unicode_name.npy", np.array([(1.0,)], dtype=[("\u03c0", "<f4")]))


def npz_samples():
    a = np.arange(4, dtype="<i4")
    b = np.array([[1.5, 2.5]], dtype="<f8")
    np.savez(NPZ / "savez.npz", a=a, b=b)
    np.savez_compressed(NPZ / "savez_compressed.npz", a=a, b=b)
    np.savez(NPZ / "empty.npz")
    # Python writes ZIP64 central directory fields and end records only past 2 GiB; lowering
    # its limit makes it write them for this small archive, the same bytes it would write
    # for a large one: sizes and offsets as 0xFFFFFFFF with the real values in the 0x0001
    # extra field, and the ZIP64 end of central directory record and locator.
    saved_limit = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 0
    try:
        with zipfile.ZipFile(NPZ / "zip64.npz", "w", zipfile.ZIP_STORED) as z:
            for name, array in (("a", a), ("b", b)):
                with z.open(name + ".npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, array)
    finally:
        zipfile.ZIP64_LIMIT = saved_limit


def check():
    for path in sorted(NPY.glob("*.npy")):
        np.load(path)
    for path in sorted(NPZ.glob("*.npz")):
        with np.load(path) as archive:
            for key in archive.files:
                archive[key]
    with open(NPZ / "zip64.npz", "rb") as f:
        data = f.read()
    assert b"PK\x06\x06" in data and b"PK\x06\x07" in data, "no ZIP64 end records"


if __name__ == "__main__":
    NPY.mkdir(exist_ok=True)
    NPZ.mkdir(exist_ok=True)
    npy_samples()
    npz_samples()
    check()
    print("numpy", np.__version__)
