"""Quickstart: the README's first example, runnable as it stands.

Every line of the README's first Python block appears here in order
(tests/python/test_examples.py checks it), with what it needs around it.
Writes data.bin, weights.npy, model.safetensors and grid.npy in the current
directory: run it from an empty one, ``python /path/to/examples/quickstart.py``.
"""

import numpy as np
import mmap_array

mmap_array.write_binary("data.bin", np.random.rand(10_000_000))  # atomic: temp file + rename
mm = mmap_array.MemoryMappedArray("data.bin")                     # maps it: ~12 µs, no read
arr = mm.get_array()                                              # a zero-copy, read-only ndarray
print(mm.size(), arr.mean())

mmap_array.save("weights.npy", np.eye(1000))                      # .npy, atomic
eye = mmap_array.open("weights.npy").get_array()                  # zero-copy again
mmap_array.save_safetensors("model.safetensors", {"embed.weight": np.ones((64, 16), np.float32)})
with mmap_array.open_safetensors("model.safetensors") as weights:  # every tensor a view
    embedding = weights["embed.weight"]

# The arrays outlive the closed container and handles: they keep the mapping alive.
print(eye.shape, embedding.dtype, embedding.shape)

# Mode "r" arrays are read-only: writing is NumPy's ValueError, never a crash.
try:
    arr[0] = 1.0
except ValueError as error:
    print("read-only:", error)

# A new, preallocated file mapped read-write; flush() makes the writes durable.
grid = mmap_array.create("grid.npy", (1000, 3), "float32")
grid.get_array()[0] = [1, 2, 3]
grid.flush()
print(np.load("grid.npy")[0])
