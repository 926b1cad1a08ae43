"""The sharing API is exported and documented (numpydoc sections that apply)."""

from __future__ import annotations

import pytest

import mmap_array

M = mmap_array.MemoryMappedArray
C = mmap_array.MappedArrays

# Each new public method or property, and the numpydoc sections it must have.
DOCUMENTED = [
    (M.__reduce__, "Returns Raises Examples"),
    (C.__reduce__, "Returns Raises Examples"),
    (M.identity, "Examples"),
    (C.identity, "Examples"),
    (M.__len__, "Returns Raises Examples"),
    (M.__iter__, "Returns Raises Examples"),
    (M.__getitem__, "Parameters Returns Raises Examples"),
    (M.__setitem__, "Parameters Raises Examples"),
    (M.__array_interface__, "Returns Raises Examples"),
    (M.__dlpack__, "Parameters Returns Raises Examples"),
    (M.__dlpack_device__, "Returns Raises Examples"),
    (M.__dask_tokenize__, "Returns Examples"),
    (M.to_dask, "Parameters Returns Raises Examples"),
    (mmap_array.FileChangedError, "Examples"),
    (mmap_array.FileIdentity, ""),
]


@pytest.mark.parametrize("obj, sections", DOCUMENTED, ids=lambda x: getattr(x, "__name__", None) or str(x)[:30])
def test_new_api_has_numpydoc_docstrings(obj, sections):
    doc = obj.__doc__ or ""
    assert len(doc.strip()) > 40, doc
    for section in sections.split():
        assert f"{section}\n" + "-" * len(section) in doc, f"no {section} section in:\n{doc}"


def test_sharing_names_are_exported():
    for name in ("FileChangedError", "FileIdentity"):
        assert name in mmap_array.__all__ and hasattr(mmap_array, name)
    assert issubclass(mmap_array.FileChangedError, OSError)
    identity = mmap_array.FileIdentity((1, 2, 3, 4))
    assert (identity.device, identity.inode, identity.size, identity.mtime_ns) == (1, 2, 3, 4)
    assert identity == (1, 2, 3, 4) and mmap_array.FileIdentity.n_fields == 4
