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
    assert set(mmap_array.__all__) == {"MemoryMappedArray", "__version__", "write_binary"}
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
    ],
    ids=lambda obj: obj.__qualname__ if hasattr(obj, "__qualname__") else str(obj),
)
def test_public_api_has_numpydoc_docstrings(obj):
    doc = obj.__doc__ or ""
    assert "Examples\n--------" in doc or "Examples\n    --------" in doc
    if obj is not mmap_array.MemoryMappedArray.close:
        assert re.search(r"(Returns|Raises|Parameters)\n\s*-+", doc)


def test_license_and_changelog_exist():
    assert "MIT License" in (REPO / "LICENSE").read_text()
    assert mmap_array.__version__ in (REPO / "CHANGELOG.md").read_text()
