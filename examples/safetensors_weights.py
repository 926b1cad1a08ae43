"""safetensors without copies: write a checkpoint, then map every tensor in place.

``open_safetensors`` validates the whole header (tensors must tile the data
exactly) and hands out each tensor as a NumPy view of one mapping; the
``safetensors`` package's ``safe_open(..., framework="np")`` copies each tensor
instead. Writes checkpoint.safetensors in the current directory.
"""

import numpy as np

import mmap_array

rng = np.random.default_rng(0)
tensors = {
    "embed.weight": rng.standard_normal((1000, 64), dtype=np.float32),
    "layer0.bias": np.zeros(64, dtype=np.float32),
    "layer0.weight": rng.standard_normal((64, 64)).astype(np.float16),
}
mmap_array.save_safetensors("checkpoint.safetensors", tensors, metadata={"format": "np", "step": "100"})

with mmap_array.open_safetensors("checkpoint.safetensors") as checkpoint:
    print(checkpoint.format, checkpoint.metadata)
    for row in checkpoint.info():  # every tensor's dtype, shape and offset, nothing mapped yet
        print(f"{row['name']:14} {row['file_dtype']:4} {row['shape']!s:12} at byte {row['offset']}")
    embedding = checkpoint["embed.weight"]  # a view: no bytes are read until used
    assert not embedding.flags.writeable and not embedding.flags.owndata
    np.testing.assert_array_equal(embedding, tensors["embed.weight"])
    names = sorted(checkpoint.keys())

# Arrays keep the mapping alive after the container is closed.
print(names, float(embedding.sum()))

# Copy-on-write: edit a tensor in memory, the file never changes.
with mmap_array.open_safetensors("checkpoint.safetensors", mode="c") as scratch:
    bias = scratch["layer0.bias"]
    bias += 1.0
with mmap_array.open_safetensors("checkpoint.safetensors") as again:
    assert float(again["layer0.bias"].sum()) == 0.0
