"""A mapped file as a torch tensor through DLPack, without a copy.

With mode "r+" the tensor is the file: a write through it is a write to the
file, durable after ``flush()``. Writes activations.npy in the current directory.
"""

import numpy as np
import torch

import mmap_array

mm = mmap_array.create("activations.npy", (4, 3), "float32")  # zero-filled, mapped "r+"
tensor = torch.from_dlpack(mm)  # shares the mapping; keeps it alive
tensor[1] = torch.tensor([1.0, 2.0, 3.0])
mm.flush()  # msync + fsync: the write is on disk
print(np.load("activations.npy")[1])

# Read-only mappings are exported read-only; open with "c" for a private, writable view.
frozen = mmap_array.open("activations.npy", mode="c")
scratch = torch.from_dlpack(frozen)
scratch.mul_(10)  # copy-on-write: the file keeps its values
assert float(np.load("activations.npy")[1, 2]) == 3.0
print(scratch[1])
