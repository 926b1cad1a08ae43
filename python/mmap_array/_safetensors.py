"""safetensors files: ``open_safetensors`` (zero-copy) and ``save_safetensors`` (atomic).

Parsing and validating the header happens in the C++ core. This module maps
safetensors' dtype names to NumPy dtypes and back. BF16 and the FP8 types
have no NumPy dtype of their own: with the ``ml_dtypes`` package installed they
map to its dtypes (``bfloat16``, ``float8_e4m3fn``...); without it they map to
unsigned integers of the same width holding the same bits (``uint16`` for
BF16, ``uint8`` for FP8), never to values converted to some other type. The
sub-byte types F4 and F6 are packed, several elements to a byte, which no NumPy
dtype can view: they map to a 1-D ``uint8`` array of the packed bytes.
``MappedArrays.info()`` reports each array's safetensors dtype in ``file_dtype``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._core import MappedArrays, _open_safetensors, _safetensors_header
from ._writers import _write_atomically

PathLike = str | bytes | os.PathLike

# safetensors name -> NumPy dtype, for the types NumPy has (data is little-endian).
_NUMPY_TYPES = {
    "BOOL": np.dtype("?"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "I16": np.dtype("<i2"),
    "U16": np.dtype("<u2"),
    "I32": np.dtype("<i4"),
    "U32": np.dtype("<u4"),
    "I64": np.dtype("<i8"),
    "U64": np.dtype("<u8"),
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "C64": np.dtype("<c8"),
}

# safetensors name -> (ml_dtypes attribute, same-width integer stand-in).
_ML_TYPES: dict[str, tuple[str, np.dtype[Any]]] = {
    "BF16": ("bfloat16", np.dtype("<u2")),
    "F8_E5M2": ("float8_e5m2", np.dtype("u1")),
    "F8_E4M3": ("float8_e4m3fn", np.dtype("u1")),
    "F8_E8M0": ("float8_e8m0fnu", np.dtype("u1")),
    "F8_E4M3FNUZ": ("float8_e4m3fnuz", np.dtype("u1")),
    "F8_E5M2FNUZ": ("float8_e5m2fnuz", np.dtype("u1")),
}


def _ml_dtypes() -> Any:
    try:
        import ml_dtypes
    except ImportError:
        return None
    return ml_dtypes


@functools.cache
def _read_table() -> dict[str, np.dtype]:
    """safetensors name -> the dtype its arrays are shown as (looked up once)."""
    ml_dtypes = _ml_dtypes()
    table: dict[str, np.dtype[Any]] = dict(_NUMPY_TYPES)
    for name, (attribute, stand_in) in _ML_TYPES.items():
        found = getattr(ml_dtypes, attribute, None) if ml_dtypes is not None else None
        table[name] = np.dtype(found) if found is not None else stand_in
    return table


@functools.cache
def _write_table() -> dict[np.dtype, str]:
    """NumPy dtype (native or little-endian) -> safetensors name."""
    table = {dtype.newbyteorder("="): name for name, dtype in _NUMPY_TYPES.items()}
    ml_dtypes = _ml_dtypes()
    if ml_dtypes is not None:
        for name, (attribute, _) in _ML_TYPES.items():
            found = getattr(ml_dtypes, attribute, None)
            if found is not None:
                table[np.dtype(found)] = name
    return table


def open_safetensors(path: PathLike, mode: str = "r") -> MappedArrays:
    """Map a safetensors file; its tensors come out as NumPy arrays without copying.

    The header is validated before anything is mapped: its length (at most
    100 MB, within the file), UTF-8 JSON without duplicate keys, known dtypes,
    shapes and offsets checked with exact integer arithmetic, and tensors that
    tile the data exactly (no gaps, overlaps or trailing bytes).

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The file.
    mode : {"r", "c", "r+"}, default "r"
        ``"r"``: read-only arrays. ``"c"``: writable copy-on-write arrays (the
        file never changes). ``"r+"``: writes go to the file.

    Returns
    -------
    MappedArrays
        ``keys()``, ``container[name]``, ``metadata``, ``info()``, ``close()``.

    Raises
    ------
    FormatError
        The file is not valid safetensors (``reason`` says how).
    OSError
        The file cannot be opened or mapped.

    Examples
    --------
    >>> mmap_array.save_safetensors("model.safetensors", {"w": np.ones((2, 2), np.float32)})
    >>> with mmap_array.open_safetensors("model.safetensors") as weights:
    ...     print(weights.keys(), weights["w"].dtype)
    ['w'] float32
    """
    return _open_safetensors(path, mode, _read_table())


def _safetensors_dtype(name: str, dtype: np.dtype) -> tuple[str, np.dtype]:
    """The safetensors name of ``dtype`` and the little-endian dtype to write it as."""
    little = dtype.newbyteorder("<") if dtype.byteorder == ">" else dtype
    found = _write_table().get(little.newbyteorder("=") if little.byteorder == "<" else little)
    if found is None:
        supported = ", ".join(sorted({str(d) for d in _write_table()}))
        raise TypeError(f"tensor {name!r} has dtype {dtype}, which safetensors cannot hold (it holds {supported})")
    return found, little


def save_safetensors(
    path: PathLike,
    tensors: Mapping[str, Any],
    metadata: Mapping[str, str] | None = None,
    *,
    fsync: bool = False,
) -> None:
    """Write arrays to a safetensors file, atomically.

    The layout is the format's own: the 8-byte header length, the JSON header
    (``__metadata__`` first) padded with spaces to a multiple of 8, then the
    tensors' data, little-endian and C-ordered, largest item size first so
    each tensor starts aligned to its item size. The file goes to a temporary
    beside ``path`` and replaces it only when complete.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The file to create or replace.
    tensors : mapping of str to array_like
        The arrays; names must be non-empty and not ``"__metadata__"``.
        Big-endian arrays are written little-endian.
    metadata : mapping of str to str, optional
        Stored as ``__metadata__``.
    fsync : bool, default False
        Also sync the file and its directory before returning.

    Raises
    ------
    TypeError
        A name or metadata entry that is not a str, or a dtype safetensors
        cannot hold (complex128, strings, records, objects...).
    ValueError
        A reserved or repeated name.
    OSError
        The file cannot be written; ``path`` is unchanged.

    Examples
    --------
    >>> mmap_array.save_safetensors("t.safetensors", {"a": np.arange(3)}, {"format": "np"})
    """
    if not isinstance(tensors, Mapping):
        raise TypeError(f"tensors must be a mapping of names to arrays, not {type(tensors).__name__}")
    pairs = _metadata_pairs(metadata)
    entries = []
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"tensor names must be str, not {type(name).__name__} ({name!r})")
        if name == "__metadata__":
            raise ValueError("'__metadata__' is reserved for the metadata; it cannot name a tensor")
        array = np.asarray(value)
        type_name, file_dtype = _safetensors_dtype(name, array.dtype)
        entries.append((name, type_name, array, file_dtype))
    # Largest items first, then by name, as the reference writer orders them: every
    # tensor then starts at a multiple of its own item size.
    entries.sort(key=lambda entry: (-entry[3].itemsize, entry[0]))
    layout, offset = [], 0
    for name, type_name, array, file_dtype in entries:
        layout.append((name, type_name, array.shape, offset, offset + array.size * file_dtype.itemsize))
        offset += array.size * file_dtype.itemsize
    header = _safetensors_header(layout, pairs)
    _write_atomically(
        path, [header], [(array, file_dtype, "C") for _, _, array, file_dtype in entries], fsync=fsync
    )


def _metadata_pairs(metadata: Mapping[str, str] | None) -> list[tuple[str, str]]:
    if metadata is None:
        return []
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a mapping of str to str, not {type(metadata).__name__}")
    pairs = []
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"metadata must map str to str; got {key!r}: {value!r}")
        pairs.append((key, value))
    return pairs
