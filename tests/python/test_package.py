"""The package's public face: version, exports, documentation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import mmap_array

REPO = Path(__file__).resolve().parents[2]


def test_version_comes_from_the_version_file():
    assert mmap_array.__version__ == (REPO / "VERSION").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", mmap_array.__version__)


def test_public_names():
    assert set(mmap_array.__all__) == {
        "FileTruncatedError", "FormatError", "MappedArrays", "MemoryMappedArray", "__version__", "create", "open", "open_npz",
        "open_safetensors", "save", "save_safetensors", "write_binary",
    }
    assert issubclass(mmap_array.FormatError, ValueError)
    assert mmap_array.FormatError.__module__ == "mmap_array"
    for name in mmap_array.__all__:
        assert hasattr(mmap_array, name)


@pytest.mark.parametrize(
    "obj",
    [
        mmap_array.MemoryMappedArray,
        mmap_array.MemoryMappedArray.get_array,
        mmap_array.MemoryMappedArray.size,
        mmap_array.MemoryMappedArray.flush,
        mmap_array.MemoryMappedArray.close,
        mmap_array.write_binary,
        mmap_array.open,
        mmap_array.create,
        mmap_array.save,
        mmap_array.open_safetensors,
        mmap_array.save_safetensors,
        mmap_array.open_npz,
        mmap_array.MappedArrays,
        mmap_array.MappedArrays.__getitem__,
    ],
    ids=lambda obj: obj.__qualname__ if hasattr(obj, "__qualname__") else str(obj),
)
def test_public_api_has_numpydoc_docstrings(obj):
    doc = obj.__doc__ or ""
    assert "Examples\n--------" in doc or "Examples\n    --------" in doc
    if obj is not mmap_array.MemoryMappedArray.close:
        assert re.search(r"(Returns|Raises|Parameters|Attributes)\n\s*-+", doc)


def test_license_and_changelog_exist():
    assert "MIT License" in (REPO / "LICENSE").read_text()
    assert mmap_array.__version__ in (REPO / "CHANGELOG.md").read_text()
