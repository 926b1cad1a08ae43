"""Sizes and repetition counts: the full benchmark, and the quick smoke run for CI."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """How big the files are and how often each contestant runs.

    Attributes
    ----------
    name : str
        ``"full"`` or ``"quick"``.
    array_bytes : int
        The raw and .npy files, and the arrays written (80 MB in full).
    tensors : int
        Tensors in the safetensors file.
    tensor_side : int
        Half the tensors are ``(side, side)`` float32 weights, half ``(side,)``
        biases, like the layers of a small model.
    gather_file_bytes : int
        The file the random rows are gathered from (4 GiB in full).
    gather_rows : int
        Rows gathered per repetition.
    row_bytes : int
        Bytes per row (4 KiB: one page).
    fast_reps, pass_reps, cold_reps, gather_reps : int
        Repetitions of the microsecond metrics (open, property), of the warm
        passes and writes, of the cold passes, and of the gathers.
    property_calls : int
        Calls per timed batch of a property read.
    """

    name: str
    array_bytes: int
    tensors: int
    tensor_side: int
    gather_file_bytes: int
    gather_rows: int
    row_bytes: int
    fast_reps: int
    pass_reps: int
    cold_reps: int
    gather_reps: int
    property_calls: int

    @property
    def gather_file_rows(self) -> int:
        """Rows in the gather file."""
        return self.gather_file_bytes // self.row_bytes


FULL = Scale(
    name="full",
    array_bytes=80_000_000,
    tensors=200,
    tensor_side=256,
    gather_file_bytes=4 * 2**30,
    gather_rows=20_000,
    row_bytes=4096,
    fast_reps=201,
    pass_reps=41,
    cold_reps=11,
    gather_reps=5,
    property_calls=20_000,
)

# Small enough that the whole run takes well under a minute on a shared 2-core machine,
# large enough that every code path (readahead, fault-around, threads) still runs.
QUICK = Scale(
    name="quick",
    array_bytes=8_000_000,
    tensors=200,
    tensor_side=64,
    gather_file_bytes=64 * 2**20,
    gather_rows=2_000,
    row_bytes=4096,
    fast_reps=31,
    pass_reps=5,
    cold_reps=3,
    gather_reps=3,
    property_calls=2_000,
)


def describe_sizes(scale: Scale) -> dict[str, str]:
    """The sizes a report states, for the scale it ran at."""
    return {
        "raw and .npy arrays": f"{scale.array_bytes / 1e6:g} MB of float64",
        "safetensors file": (
            f"{scale.tensors} float32 tensors: {scale.tensors // 2} of ({scale.tensor_side}, "
            f"{scale.tensor_side}) and {scale.tensors - scale.tensors // 2} of ({scale.tensor_side},)"
        ),
        "gather": (
            f"{scale.gather_rows:,} random rows of {scale.row_bytes // 1024} KiB from a "
            f"{format_size(scale.gather_file_bytes)} file"
        ),
    }


def format_size(n: int) -> str:
    """Bytes in binary units: ``4294967296`` -> ``"4 GiB"``."""
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= factor:
            return f"{n / factor:g} {unit}"
    return f"{n} bytes"
