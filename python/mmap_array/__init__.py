"""Zero-copy memory-mapped NumPy arrays.

``mmap_array`` maps a file into memory and hands it out as NumPy arrays
without copying: raw binary, ``.npy``, safetensors and the stored members of
``.npz``. Opening takes a few system calls whatever the file's size, files
larger than RAM work, and what a user or another process does to the file
cannot crash the program or lose data. Every writer replaces its file
atomically.

Examples
--------
>>> import numpy as np, mmap_array
>>> mmap_array.save("data.npy", np.random.rand(1000))
>>> mm = mmap_array.open("data.npy")
>>> arr = mm.get_array()          # no copy; read-only
>>> mm.size()
1000
"""

from . import _fault_guard
from ._core import FileTruncatedError, FormatError, MappedArrays, MemoryMappedArray
from ._formats import create, open, open_npz, save
from ._safetensors import open_safetensors, save_safetensors
from ._version import __version__
from ._writers import write_binary

_fault_guard.install()

__all__ = [
    "FileTruncatedError",
    "FormatError",
    "MappedArrays",
    "MemoryMappedArray",
    "__version__",
    "create",
    "open",
    "open_npz",
    "open_safetensors",
    "save",
    "save_safetensors",
    "write_binary",
]
