"""Zero-copy memory-mapped NumPy arrays.

``mmap_array`` maps a file into memory and hands it out as NumPy arrays
without copying: opening takes a few system calls whatever the file's size,
files larger than RAM work, and what a user or another process does to the
file cannot crash the program or lose data.

Examples
--------
>>> import numpy as np, mmap_array
>>> mmap_array.write_binary("data.bin", np.random.rand(1000))
>>> mm = mmap_array.MemoryMappedArray("data.bin")
>>> arr = mm.get_array()          # no copy; read-only
>>> mm.size()
1000
"""

from ._core import MemoryMappedArray
from ._version import __version__
from ._writers import write_binary

__all__ = ["MemoryMappedArray", "__version__", "write_binary"]
