"""``mmap-array info FILE``: what a file holds, as an aligned table.

For each array: its name, the NumPy dtype it maps to, the file's own name for
that type, its shape, its byte offset in the file, its size in bytes, and how
much of it is in memory (the page cache) right now.
"""

from __future__ import annotations

import argparse
import math
import os
from typing import Any

from ._core import _detect_format
from ._formats import open as open_array
from ._formats import open_npz
from ._safetensors import open_safetensors

_COLUMNS = ("name", "dtype", "file dtype", "shape", "offset", "bytes", "resident")
_NUMERIC = {"offset", "bytes", "resident"}


def add_info_command(commands: argparse._SubParsersAction) -> None:
    """Register ``info`` on the CLI's subcommand parser."""
    parser = commands.add_parser(
        "info",
        help="show the format and the arrays of a file",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    parser.add_argument("file", help="an .npy, .npz, safetensors or raw file")
    parser.add_argument("--dtype", help="read the file as raw items of this dtype (e.g. float32)")
    parser.add_argument("--shape", help="with --dtype: the shape, e.g. 100,3 (default: 1-D)")
    parser.add_argument("--offset", type=int, default=0, help="with --dtype: byte offset of the first item")
    parser.set_defaults(run=run_info)


def _shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.replace("(", "").replace(")", "").split(",") if part.strip())
    except ValueError:
        raise ValueError(f"--shape must be integers separated by commas, e.g. 100,3; got {text!r}") from None


def describe(
    path: str, *, dtype: Any = None, shape: Any = None, offset: int = 0
) -> tuple[str, list[dict], dict, float]:
    """Return (format, one row per array, metadata, resident fraction) for the file at ``path``.

    The resident fraction covers the mapped data: a raw or ``.npy`` file's array, a
    safetensors file's data section, a whole ``.npz`` archive. Each row's ``resident`` is
    its array's fraction (None for a compressed ``.npz`` member, which is not mapped).
    """
    format = "raw" if dtype is not None else _detect_format(path)
    if format == "raw" and dtype is None:
        raise ValueError(
            f"{path}: no .npy, .npz or safetensors signature; a raw file needs --dtype "
            f"(and --shape, --offset if it has them)"
        )
    if format in ("npz", "safetensors"):
        opener = open_npz if format == "npz" else open_safetensors
        with opener(path) as container:
            rows = container.info()
            for row in rows:
                row["resident"] = None if row["offset"] is None else container.residency(row["name"])
            return format, rows, container.metadata, container.residency()
    with open_array(path, dtype=dtype, shape=shape, offset=offset, format=format) as mm:
        row = {
            "name": "-",
            "dtype": mm.dtype,
            "file_dtype": mm.dtype.str,
            "shape": mm.shape,
            "offset": mm.offset,
            "nbytes": mm.nbytes,
            "resident": mm.residency(),
        }
        return format, [row], {}, row["resident"]


def percent(fraction: float) -> str:
    """``fraction`` as a percentage rounded down, so only all of it reads 100%."""
    return f"{math.floor(fraction * 1000) / 10:.1f}%"


def _cells(row: dict) -> list[str]:
    def number(value: Any) -> str:
        return "-" if value is None else f"{value:,}"

    return [
        str(row["name"]),
        "-" if row["dtype"] is None else str(row["dtype"]),
        "-" if row["file_dtype"] is None else str(row["file_dtype"]),
        "-" if row["shape"] is None else str(tuple(row["shape"])),
        number(row["offset"]),
        number(row["nbytes"]),
        "-" if row["resident"] is None else percent(row["resident"]),
    ]


def format_table(rows: list[dict]) -> list[str]:
    """Align ``rows`` under the column headings; numbers right-aligned."""
    cells = [list(_COLUMNS)] + [_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(_COLUMNS))]
    lines = []
    for line in cells:
        parts = [
            text.rjust(width) if _COLUMNS[i] in _NUMERIC else text.ljust(width)
            for i, (text, width) in enumerate(zip(line, widths))
        ]
        lines.append("  ".join(parts).rstrip())
    return lines


def run_info(args: argparse.Namespace) -> int:
    """Print the file's format, size, metadata and arrays."""
    if args.dtype is None and (args.shape is not None or args.offset):
        raise ValueError("--shape and --offset describe a raw file: give --dtype too")
    format, rows, metadata, resident = describe(
        args.file, dtype=args.dtype, shape=_shape(args.shape), offset=args.offset
    )
    size = os.stat(args.file).st_size
    plural = "array" if len(rows) == 1 else "arrays"
    print(f"{args.file}: {format}, {len(rows)} {plural}, {size:,} bytes, {percent(resident)} in memory")
    for key, value in metadata.items():
        print(f"  {key}: {value}")
    for line in format_table(rows):
        print(line)
    return 0
