"""``mmap-array convert SRC DST``: raw, .npy, safetensors (and .npz as a source).

The source is validated by its format's own opener, then its data range is
mapped (never read whole into memory) and streamed in bounded chunks through
the package's atomic writer (``_AtomicWriter``): the destination appears only
complete, and a failure or Ctrl-C leaves no partial file and an existing
destination as it was. Because the writer renames a new file over the old one
while the mapping holds the old one, converting a file onto itself is safe.

Formats come from the file names (``.npy``, ``.safetensors``, ``.npz``; any
other name is raw, unless the source starts with an .npy, .npz or safetensors
signature), or from ``--from`` and ``--to``. A raw source is read as
``--dtype`` (default float64, the seed tutorial's format), 1-D unless
``--shape`` is given. Casts follow NumPy's rules, by default only those that
lose nothing (``--cast safe``).
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from ._core import FileChangedError, MemoryMappedArray, _AtomicWriter, _detect_format, _npy_header, _safetensors_header
from ._formats import open as open_array
from ._formats import open_npz
from ._safetensors import _ML_TYPES, _ml_dtypes, _read_table, _safetensors_dtype, open_safetensors

# Bytes of the source handled per step. Each step maps at most this much of the source
# (dropped again after it is written) plus, for a cast, one buffer of the result: large
# enough that per-write and per-madvise overhead vanishes, small enough that converting a
# file larger than RAM needs a few tens of MB.
_CHUNK_BYTES = 16 * 1024 * 1024

_SOURCE_FORMATS = ("raw", "npy", "safetensors", "npz")
_DESTINATION_FORMATS = ("raw", "npy", "safetensors")
_EXTENSIONS = {".npy": "npy", ".safetensors": "safetensors", ".npz": "npz"}
_CASTS = ("no", "equiv", "safe", "same_kind", "unsafe")
_DEFAULT_RAW_DTYPE = "float64"

_DESCRIPTION = """\
Convert an array between raw, .npy and safetensors files (and from .npz).

The source is mapped, never read whole into memory, and streamed in bounded
chunks to a temporary file that replaces DST only when complete: a failure or
Ctrl-C leaves no partial file and an existing DST as it was (DST may be SRC).

Formats come from the names: .npy, .safetensors, .npz, and anything else is
raw (unless the source starts with an .npy, .npz or safetensors signature);
--from and --to override them. A raw source is read as --dtype (default
float64, the format of write_binary and the demo), 1-D unless --shape is
given. A raw destination holds the items in C order, with no header.
"""

_EXAMPLES = """\
examples:
  mmap-array convert data.bin data.npy --shape -1,3
  mmap-array convert data.bin data.safetensors --dtype int16 --offset 64 --name samples
  mmap-array convert data.npy data.safetensors --name embed
  mmap-array convert model.safetensors w.npy --tensor w --dtype float32 --cast same_kind
  mmap-array convert weights.npy weights.bin      (then: --dtype <its dtype> --shape ...)
"""


def add_convert_command(commands: argparse._SubParsersAction) -> None:
    """Register ``convert`` on the CLI's subcommand parser."""
    parser = commands.add_parser(
        "convert",
        help="convert between raw, .npy and safetensors files, streaming through a mapping",
        description=_DESCRIPTION,
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # "--shape -1,3" is a value, not an option: argparse only takes plain numbers like -1
    # as values unless told otherwise.
    if hasattr(parser, "_negative_number_matcher"):
        parser._negative_number_matcher = re.compile(r"^-\d+(,-?\d+)*,?$|^-\d*\.\d+$")
    parser.add_argument("source", metavar="SRC", help="the file to read (mapped, never loaded whole)")
    parser.add_argument(
        "destination",
        metavar="DST",
        help="the file to write; an existing file is replaced atomically (it may be SRC itself)",
    )
    parser.add_argument(
        "--from", dest="source_format", choices=_SOURCE_FORMATS, help="the source's format (default: from its name)"
    )
    parser.add_argument(
        "--to",
        dest="destination_format",
        choices=_DESTINATION_FORMATS,
        help="the destination's format (default: from its name; raw unless .npy or .safetensors)",
    )
    raw = parser.add_argument_group("raw sources")
    raw.add_argument(
        "--dtype",
        help=(
            f"a raw source's item type (default: {_DEFAULT_RAW_DTYPE}); for an .npy, .npz or safetensors "
            "source, whose header gives its type, the type to write (a cast, like --astype)"
        ),
    )
    raw.add_argument(
        "--shape", help="a raw source's shape, e.g. 1000,3; one -1 is inferred from the size (default: 1-D)"
    )
    raw.add_argument("--offset", type=int, default=0, help="bytes to skip at the start of a raw source (default: 0)")
    raw.add_argument("--order", choices=("C", "F"), help="a raw source's memory order (default: C)")
    cast = parser.add_argument_group("casting")
    cast.add_argument("--astype", metavar="DTYPE", help="the item type to write (default: the source's)")
    cast.add_argument(
        "--cast",
        choices=_CASTS,
        default="safe",
        help="which casts --dtype/--astype may make, as NumPy's casting= (default: safe, which never loses "
        "information; same_kind allows float64 to float32, unsafe anything)",
    )
    tensors = parser.add_argument_group("containers")
    tensors.add_argument("--tensor", help="the array to convert from a safetensors or .npz source holding several")
    tensors.add_argument(
        "--name",
        help="the tensor's name in a safetensors destination (default: the source tensor's name, else "
        "the source file's stem)",
    )
    output = parser.add_argument_group("output")
    shown = output.add_mutually_exclusive_group()
    shown.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="show a progress bar on stderr even when it is not a terminal (default: only on a terminal)",
    )
    shown.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")
    output.add_argument("-q", "--quiet", action="store_true", help="print nothing on success (implies --no-progress)")
    output.add_argument("--fsync", action="store_true", help="sync the destination and its directory before returning")
    parser.set_defaults(run=run_convert)


@dataclass
class Source:
    """Where an array's bytes are in a file, validated by the format's own opener."""

    path: str
    format: str
    dtype: np.dtype
    shape: tuple[int, ...]
    order: str
    offset: int
    nbytes: int
    name: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    identity: Any = None


def _path_text(path: str) -> str:
    return repr(os.fsdecode(path))


def _format_of(path: str, given: str | None, allowed: tuple[str, ...]) -> str:
    if given is not None:
        return given
    extension = os.path.splitext(os.fsdecode(path))[1].lower()
    format = _EXTENSIONS.get(extension)
    if format is not None and format not in allowed:
        raise ValueError(
            f"cannot write {_path_text(path)}: {extension} is not a destination format "
            f"({', '.join(allowed)}); name it otherwise or pass --to"
        )
    return format or "raw"


def source_format(path: str, given: str | None) -> str:
    """Return the format of the source at ``path``.

    Parameters
    ----------
    path : str
        The source file.
    given : {"raw", "npy", "safetensors", "npz"} or None
        ``--from``; when given it wins.

    Returns
    -------
    str
        ``given``, else the format its extension names, else the format its first
        bytes show (an .npy file renamed ``data.bin`` is still an .npy file), else "raw".

    Raises
    ------
    OSError
        The file cannot be opened to look at its first bytes.
    """
    format = _format_of(path, given, _SOURCE_FORMATS)
    if given is None and format == "raw":
        # An .npy file renamed data.bin is still an .npy file: reading its header as
        # float64 values would be silent garbage.
        detected = _detect_format(path)
        if detected in _SOURCE_FORMATS:
            format = detected
    return format


def parse_shape(text: str | None, count: int, path: str) -> tuple[int, ...] | None:
    """Parse ``--shape``, inferring its one ``-1`` (if any) from ``count`` items.

    Parameters
    ----------
    text : str or None
        Sizes separated by commas, e.g. ``"1000,3"`` or ``"-1,3"``; parentheses are ignored,
        and an empty text (or ``"()"``) is the shape of a 0-d array.
    count : int
        Items in the file after the offset, for the ``-1``.
    path : str
        The file, for messages.

    Returns
    -------
    tuple of int or None
        None when ``text`` is None (the file is 1-D).

    Raises
    ------
    ValueError
        Not integers, more than one ``-1``, a size below -1, or ``count`` not a whole
        multiple of the other sizes.

    Examples
    --------
    >>> parse_shape("-1,3", 12, "data.bin")
    (4, 3)
    """
    if text is None:
        return None
    try:
        shape = [int(part) for part in text.replace("(", "").replace(")", "").split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--shape must be integers separated by commas, e.g. 1000,3; got {text!r}") from None
    if shape.count(-1) > 1 or any(n < -1 for n in shape):
        raise ValueError(f"--shape may hold one -1 (inferred) and otherwise sizes >= 0; got {text!r}")
    if -1 in shape:
        known = math.prod(n for n in shape if n != -1)
        if known == 0 or count % known:
            raise ValueError(
                f"cannot map {_path_text(path)}: {count:,} items do not fill --shape {text} "
                f"(the other sizes multiply to {known:,})"
            )
        shape[shape.index(-1)] = count // known
    return tuple(shape)


def resolve_dtype(text: str, option: str) -> np.dtype:
    """Return the dtype a command-line name means.

    Parameters
    ----------
    text : str
        A NumPy name (``float32``, ``<f4``, ``>i2``), an ml_dtypes name (``bfloat16``,
        when ml_dtypes is installed) or a safetensors one (``F32``, ``BF16``).
    option : str
        The option it came from, for the message.

    Returns
    -------
    numpy.dtype

    Raises
    ------
    TypeError
        No such type (``--dtype: data type 'floot' not understood``).
    """
    table = _read_table()
    if text in table:
        return table[text]
    _ml_dtypes()  # importing ml_dtypes registers bfloat16 and the float8 names with NumPy
    try:
        return np.dtype(text)
    except TypeError:
        raise TypeError(f"{option}: data type {text!r} not understood") from None


def open_source(args: argparse.Namespace) -> Source:
    """Validate the source with its format's opener and return where its array is.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``convert`` options.

    Returns
    -------
    Source
        The array's dtype, shape, order and byte range in the file, and the file's
        identity (to check that the mapping made next is of the same file).

    Raises
    ------
    FormatError
        The file's bytes are not valid for its format.
    ValueError
        Options that do not fit the source (``--shape`` on an .npy file, a missing or
        ambiguous ``--tensor``, a shape the file's size does not fill...).
    TypeError
        An unknown ``--dtype``; a tensor NumPy has no type for.
    OSError
        The file cannot be opened or mapped.
    """
    path = args.source
    format = source_format(path, args.source_format)
    layout = [name for name, value in (("--shape", args.shape), ("--order", args.order)) if value is not None]
    if args.offset:
        layout.append("--offset")
    if format != "raw":
        if layout:
            raise ValueError(
                f"{_path_text(path)} is {'a safetensors' if format == 'safetensors' else 'an .' + format} file, "
                f"whose header gives its layout; {', '.join(layout)} {'is' if len(layout) == 1 else 'are'} for "
                f"raw sources (pass --from raw to read its bytes as raw)"
            )
        if args.tensor is not None and format == "npy":
            raise ValueError(f"--tensor picks an array of a safetensors or .npz source; {_path_text(path)} is .npy")
        if format == "npy":
            return _from_handle(open_array(path, format="npy"), path, None)
        return _from_container(path, format, args.tensor)
    if args.tensor is not None:
        raise ValueError(f"--tensor picks an array of a safetensors or .npz source; {_path_text(path)} is raw")
    if args.offset < 0:
        raise ValueError(f"--offset must be at least 0, got {args.offset}")
    dtype = resolve_dtype(args.dtype or _DEFAULT_RAW_DTYPE, "--dtype")
    size = os.stat(path).st_size
    count = max(0, size - args.offset) // dtype.itemsize if dtype.itemsize else 0
    shape = parse_shape(args.shape, count, path)
    try:
        handle = open_array(path, format="raw", dtype=dtype, shape=shape, offset=args.offset, order=args.order)
    except ValueError as error:
        if args.dtype is None:
            raise ValueError(f"{error} (read as {_DEFAULT_RAW_DTYPE}, the default --dtype of raw sources)") from None
        raise
    return _from_handle(handle, path, None)


def _from_handle(handle: MemoryMappedArray, path: str, name: str | None) -> Source:
    with handle:
        order = "F" if handle.order == "F" and len(handle.shape) > 1 else "C"
        return Source(path, handle.format, handle.dtype, tuple(handle.shape), order, handle.offset,
                      handle.nbytes, name, {}, handle.identity)


def _from_container(path: str, format: str, tensor: str | None) -> Source:
    opener = open_safetensors if format == "safetensors" else open_npz
    with opener(path) as container:
        rows = {row["name"]: row for row in container.info()}
        if tensor is None:
            if len(rows) != 1:
                listing = ", ".join(rows) if rows else "none"
                raise ValueError(
                    f"{_path_text(path)} holds {len(rows)} arrays; pick one with --tensor NAME ({listing})"
                )
            tensor = next(iter(rows))
        if tensor not in rows:
            raise ValueError(f"{_path_text(path)} has no array {tensor!r}; it holds: {', '.join(rows) or 'none'}")
        row = rows[tensor]
        if row["offset"] is None:
            raise ValueError(
                f"{_path_text(path)}: member {tensor!r} is compressed (np.savez_compressed), so it cannot be "
                f"mapped; decompress it first, e.g. np.save('{tensor}.npy', np.load(path)[{tensor!r}])"
            )
        _refuse_stand_in(path, row)
        order = "C"
        if format == "npz":
            # An .npz member is an .npy file: it may be Fortran-ordered. Its view says so.
            view = container[tensor]
            order = "F" if view.ndim > 1 and view.flags.f_contiguous and not view.flags.c_contiguous else "C"
            del view
        metadata = dict(container.metadata) if format == "safetensors" else {}
        return Source(path, format, row["dtype"], tuple(row["shape"]), order, row["offset"], row["nbytes"],
                      tensor, metadata, container.identity)


def _refuse_stand_in(path: str, row: dict) -> None:
    """Refuse a tensor whose NumPy dtype only stands in for its real type.

    Without ml_dtypes, BF16 and FP8 tensors show as same-width unsigned integers, and the
    packed F4/F6 types always show as bytes: converting those would write the bits under
    another type's name, which is a silent change of meaning.
    """
    file_dtype = row.get("file_dtype")
    stand_in = _ML_TYPES[file_dtype][1] if file_dtype in _ML_TYPES else None
    packed = file_dtype in ("F4", "F6_E2M3", "F6_E3M2")
    if packed or (stand_in is not None and row["dtype"] == stand_in):
        hint = "" if packed else " (pip install ml_dtypes gives it one)"
        raise TypeError(
            f"{_path_text(path)}: tensor {row['name']!r} is {file_dtype}, which NumPy has no type for{hint}; "
            f"converting it would write its bits as {row['dtype']}"
        )


@dataclass
class Plan:
    """What the destination gets: format, dtype, order, the header before the data."""

    format: str
    dtype: np.dtype
    order: str
    header: bytes
    name: str | None


def plan_destination(args: argparse.Namespace, source: Source) -> Plan:
    """Choose the destination's format, dtype, order and header.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``convert`` options.
    source : Source
        From :func:`open_source`.

    Returns
    -------
    Plan
        An .npy destination keeps the source's order (a Fortran array stays Fortran,
        with no reordering); raw and safetensors ones are C-ordered. safetensors is
        little-endian only, so a big-endian source is byte-swapped (which loses nothing).

    Raises
    ------
    TypeError
        A cast the ``--cast`` policy refuses (the message names the policy that would
        allow it), or a dtype the destination format cannot record (complex128 in
        safetensors; bfloat16 in .npy, whose header would say "V2").
    ValueError
        An ``.npz`` destination, ``--name`` for a destination that is not safetensors,
        a reserved tensor name.
    """
    format = _format_of(args.destination, args.destination_format, _DESTINATION_FORMATS)
    target = _target_dtype(args, source)
    if not np.can_cast(source.dtype, target, casting=args.cast):
        wider = "same_kind" if np.can_cast(source.dtype, target, casting="same_kind") else "unsafe"
        raise TypeError(
            f"casting {_path_text(source.path)} from {source.dtype} to {target} is not allowed with --cast "
            f"{args.cast}{' (it can lose information)' if args.cast in ('safe', 'same_kind') else ''}; "
            f"pass --cast {wider} to allow it"
        )
    if args.name is not None and format != "safetensors":
        raise ValueError(
            f"--name names the tensor of a safetensors destination; {_path_text(args.destination)} is {format}"
        )
    if format == "raw":
        return Plan("raw", target, "C", b"", None)
    if format == "npy":
        if target.kind == "V" and target.type is not np.void:
            # ml_dtypes' bfloat16 and float8 types: the header can only say "|V2", so np.load
            # would hand back opaque bytes (np.save writes the same): a silent loss of the type.
            raise TypeError(
                f"cannot write {_path_text(args.destination)}: an .npy header cannot record {target} "
                f"(np.load would read it back as raw bytes, {target.descr[0][1]}); write safetensors, "
                f"or cast with --dtype float32"
            )
        header = _npy_header(target, source.shape, source.order == "F")
        return Plan("npy", target, source.order, header, None)
    name = args.name if args.name is not None else source.name
    if name is None:
        name = os.path.splitext(os.path.basename(os.fsdecode(args.source)))[0] or "data"
    if name == "" or name == "__metadata__":
        raise ValueError(f"--name {name!r} cannot name a safetensors tensor")
    # safetensors is little-endian only: a big-endian source is byte-swapped, which loses nothing.
    try:
        type_name, little = _safetensors_dtype(name, target)
    except TypeError as error:
        raise TypeError(f"cannot write {_path_text(args.destination)}: {error}") from None
    nbytes = math.prod(source.shape) * little.itemsize
    metadata = list(source.metadata.items())
    header = _safetensors_header([(name, type_name, source.shape, 0, nbytes)], metadata)
    return Plan("safetensors", little, "C", header, name)


def _target_dtype(args: argparse.Namespace, source: Source) -> np.dtype:
    astype = resolve_dtype(args.astype, "--astype") if args.astype is not None else None
    if source.format != "raw" and args.dtype is not None:
        cast = resolve_dtype(args.dtype, "--dtype")
        if astype is not None and astype != cast:
            raise ValueError(f"--dtype {args.dtype} and --astype {args.astype} disagree; give one")
        astype = cast
    return astype if astype is not None else source.dtype


def _chunks(source: Source, plan: Plan, data: MemoryMappedArray | None) -> Iterator[tuple[np.ndarray, int]]:
    """Yield (block to write, source bytes consumed so far), each block bounded by _CHUNK_BYTES.

    Pages of the source are dropped from this process once written (``dontneed``), so its
    resident memory stays at a chunk or two whatever the file's size; they stay in the page
    cache, so a second pass is still warm.
    """
    count = math.prod(source.shape)
    if count == 0 or data is None:
        return
    flat = data.get_array()[: source.nbytes].view(source.dtype)
    convert = plan.dtype != source.dtype
    if plan.order == source.order or len(source.shape) <= 1:
        step = max(1, _CHUNK_BYTES // max(source.dtype.itemsize, plan.dtype.itemsize))
        for start in range(0, count, step):
            stop = min(count, start + step)
            block = flat[start:stop]
            if convert:
                block = block.astype(plan.dtype, casting="unsafe")  # the policy was checked up front
            yield block, stop * source.dtype.itemsize
            del block
            data.advise("dontneed", start * source.dtype.itemsize, stop * source.dtype.itemsize)
        return
    # A Fortran-ordered source written in C order: NumPy's buffered iterator transposes it a
    # bounded buffer at a time. Each buffer reads scattered pages, so all are dropped after each.
    array = flat.reshape(source.shape[::-1]).T
    iterator = np.nditer(  # type: ignore[call-overload]  # NumPy's stubs lack the "contig" flag
        array,
        flags=["external_loop", "buffered", "zerosize_ok"],
        op_flags=[["readonly", "contig"]],
        op_dtypes=[plan.dtype],
        order="C",
        casting="unsafe",
        buffersize=max(1, _CHUNK_BYTES // max(source.dtype.itemsize, plan.dtype.itemsize)),
    )
    done = 0
    for block in iterator:
        done += block.size
        yield block, done * source.dtype.itemsize
        data.advise("dontneed")


class ProgressBar:
    """A one-line progress bar redrawn in place on ``stream`` (at most 10 times a second).

    Written here rather than taken from tqdm: it is thirty lines, and the package
    depends on NumPy alone.

    Parameters
    ----------
    total : int
        The amount that is 100%, in bytes.
    label : str
        Shown first on the line (the destination's name).
    stream : file
        Where to draw (stderr); its terminal's width is used, 80 columns if unknown.
    """

    def __init__(self, total: int, label: str, stream: TextIO) -> None:
        self.total, self.label, self.stream = total, label, stream
        self.start = self.last = time.monotonic()
        self.drawn = False

    def update(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.1:
            return
        self.last = now
        fraction = done / self.total if self.total else 1.0
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        left = f"{(self.total - done) / rate:4.0f}s left" if rate > 0 and done < self.total else f"{elapsed:5.1f}s"
        total = _megabytes(self.total)
        # Fixed widths keep the bar from jittering as the numbers grow.
        text = f"{fraction * 100:5.1f}% {_megabytes(done):>{len(total)}}/{total} {rate / 1e6:6.0f} MB/s {left:>9}"
        try:
            width = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            width = 0
        width = width or 80  # a pipe, or a terminal that reports no size (a fresh pty says 0)
        room = width - len(self.label) - len(text) - 6
        bar = f" |{'#' * int(fraction * room):<{room}}|" if room >= 10 else ""
        # One column short of the width: writing the last column makes some terminals wrap.
        self.stream.write("\r" + f"{self.label}{bar} {text}"[: width - 1].ljust(width - 1))
        self.stream.flush()
        self.drawn = True

    def finish(self, done: int, ok: bool) -> None:
        if ok:
            self.update(done, force=True)
        if self.drawn:
            self.stream.write("\n")  # an error message that follows gets a line of its own
            self.stream.flush()


def _megabytes(count: int) -> str:
    return f"{count / 1e6:,.1f} MB"


def convert(
    args: argparse.Namespace, progress: Callable[[int, int], None] | None = None
) -> tuple[Source, Plan, int]:
    """Convert ``args.source`` to ``args.destination``, streaming, atomically.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``convert`` options.
    progress : callable, optional
        Called as ``progress(done, total)`` in source bytes after each chunk.

    Returns
    -------
    tuple
        (source, plan, size of the destination in bytes).

    Raises
    ------
    FileTruncatedError
        The source shrank during the conversion; the destination was not replaced.
    OSError, ValueError, TypeError
        As :func:`open_source` and :func:`plan_destination`, or the destination
        cannot be written (``ENOSPC`` up front: the space is reserved first). In
        every case the destination is left as it was.
    """
    source = open_source(args)
    plan = plan_destination(args, source)
    count = math.prod(source.shape)
    total = len(plan.header) + count * plan.dtype.itemsize
    data = None
    if source.nbytes:
        # Every byte from the array's offset on, as uint8: one view whatever the format, and
        # pages can be dropped at any byte (advise takes rows, which here are bytes).
        data = MemoryMappedArray(source.path, "u1", "r", None, source.offset)
        if data.identity != source.identity:
            raise FileChangedError(errno.ESTALE, "the file was replaced while it was opened; try again", source.path)
        data.advise("sequential")
    try:
        with np.errstate(all="ignore"), _AtomicWriter(args.destination, args.fsync) as writer:
            # Reserving the space first makes a full disk fail now, not at 90%.
            writer.preallocate(total)
            writer.write(plan.header)
            for block, done in _chunks(source, plan, data):
                writer.write(block)
                if progress is not None:
                    progress(done, source.nbytes)
            writer.commit()
    finally:
        if data is not None:
            data.close()
    return source, plan, total


def run_convert(args: argparse.Namespace) -> int:
    """Run ``convert``: the conversion, a progress bar on a terminal, a summary line."""
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    bar = None
    if show and not args.quiet:
        bar = ProgressBar(0, f"{os.fsdecode(args.destination)}", sys.stderr)

    def progress(done: int, total: int) -> None:
        assert bar is not None  # only passed to convert() when there is a bar
        bar.total = total
        bar.update(done)

    ok, done = False, 0
    try:
        source, plan, written = convert(args, progress if bar is not None else None)
        ok, done = True, source.nbytes
        if bar is not None:
            bar.total = source.nbytes
    finally:
        if bar is not None:
            bar.finish(done, ok)
    if not args.quiet:
        try:
            print(_summary(args, source, plan, written), flush=True)
        except OSError as error:
            # The conversion is done and DST replaced: say so, rather than let a full or
            # closed stdout read as a failed conversion.
            raise OSError(
                error.errno,
                f"{_path_text(os.fsdecode(args.destination))} was written, but the summary could not be "
                f"printed to standard output: {error.strerror}",
            ) from error
    return 0


def _summary(args: argparse.Namespace, source: Source, plan: Plan, written: int) -> str:
    shape = ",".join(map(str, source.shape)) or "'()'"
    where = f"{os.fsdecode(args.source)}" + (f"[{source.name}]" if source.name is not None else "")
    line = (
        f"{where} ({source.format} {source.dtype} {tuple(source.shape)}) -> "
        f"{os.fsdecode(args.destination)} ({plan.format} {plan.dtype}"
        + (f" {plan.name!r}" if plan.name is not None else "")
        + f"): {written:,} bytes"
    )
    if plan.format == "raw":
        dtype = plan.dtype.str if plan.dtype.byteorder == ">" else str(plan.dtype)
        line += f"; read it back with --dtype {dtype} --shape {shape}"
    return line
