"""``MemoryMappedArray.to_dask``: a Dask array over a mapped file.

Every task of the graph holds the handle itself (``inline_array=True``), which
pickles by reference (a few hundred bytes, see ``_sharing``): a distributed
worker that runs a task maps the file itself and slices its chunk out of the
mapping, so no chunk's bytes travel from the client or the scheduler. Dask is
imported here only, when ``to_dask`` is called.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def to_dask(handle: Any, chunks: Any = "auto", name: str | None = None) -> Any:
    """Build the Dask array of ``handle``; see ``MemoryMappedArray.to_dask``."""
    try:
        import dask.array as da
    except ImportError as error:
        raise ImportError(
            f"to_dask() of {handle.filename!r} needs Dask, which is not installed: "
            "python -m pip install 'dask[array]'"
        ) from error
    # meta: an empty array of the right dtype and rank, so Dask does not index the handle
    # to find out what its chunks are.
    meta = np.empty((0,) * handle.ndim, dtype=handle.dtype)
    return da.from_array(handle, chunks=chunks, name=name, lock=False, inline_array=True, meta=meta)
