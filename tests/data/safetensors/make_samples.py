"""Writes the sample files of this directory with the reference safetensors package.

Run from anywhere: ``python make_samples.py``. The values are simple functions of the
element index, so the C++ test can check every byte without a copy of this script's
arrays. Needs ``safetensors`` and ``numpy``; see README.md for the versions used.
"""

from pathlib import Path

import numpy as np
from safetensors import TensorSpec, serialize
from safetensors.numpy import save_file

HERE = Path(__file__).resolve().parent


def numpy_samples() -> None:
    save_file(
        {
            "weight": np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5,
            "bias": np.array([-1.0, 0.0, 1.0], dtype=np.float32),
        },
        HERE / "f32_with_metadata.safetensors",
        metadata={"format": "np", "note": "h\u00e9llo \u2713"},
    )
    save_file(
        {
            "bool": np.array([True, False, True]),
            "u8": np.arange(4, dtype=np.uint8).reshape(2, 2),
            "i8": np.array([-128, 127], dtype=np.int8),
            "i16": np.array([-2, 3], dtype=np.int16),
            "u16": np.array([65535], dtype=np.uint16),
            "i32": np.array([[-7], [8]], dtype=np.int32),
            "u32": np.array([4000000000], dtype=np.uint32),
            "i64": np.arange(-2, 2, dtype=np.int64),
            "u64": np.array([2**64 - 1], dtype=np.uint64),
            "f16": np.array([1.5, -2.0], dtype=np.float16),
            "f64": np.array(3.25, dtype=np.float64),
            "c64": np.array([1 + 2j], dtype=np.complex64),
            "empty": np.zeros((0, 3), dtype=np.float32),
        },
        HERE / "numpy_dtypes.safetensors",
    )
    save_file({}, HERE / "no_tensors.safetensors")


def raw_samples() -> None:
    # Dtypes NumPy has no type for, written from raw bytes 0, 1, 2, ... of each tensor.
    specs = {
        "bf16": ("bfloat16", [2, 2], 8),
        "f8_e4m3": ("float8_e4m3fn", [4], 4),
        "f8_e5m2": ("float8_e5m2", [3], 3),
        "f8_e8m0": ("float8_e8m0fnu", [2], 2),
        "f8_e4m3fnuz": ("float8_e4m3fnuz", [1], 1),
        "f8_e5m2fnuz": ("float8_e5m2fnuz", [1, 1], 1),
        # The storage shape: two F4 values per byte, so the header says [2, 6].
        "f4": ("float4_e2m1fn_x2", [2, 3], 6),
    }
    buffers = []
    tensors = {}
    for name, (dtype, shape, nbytes) in specs.items():
        data = np.arange(nbytes, dtype=np.uint8)
        buffers.append(data)
        tensors[name] = TensorSpec(
            dtype=dtype, shape=shape, data_ptr=data.ctypes.data, data_len=nbytes
        )
    blob = serialize(tensors, metadata={"kind": "raw"})
    (HERE / "raw_dtypes.safetensors").write_bytes(bytes(blob))


if __name__ == "__main__":
    numpy_samples()
    raw_samples()
