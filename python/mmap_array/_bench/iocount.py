"""Bytes this process read from storage, from ``/proc/self/io``.

``read_bytes`` counts what the process made the kernel fetch from the block
device (page-cache misses, readahead, O_DIRECT reads, by all its threads), not
what it read from the page cache: the numerator of read amplification.
"""

from __future__ import annotations

_PROC_IO = "/proc/self/io"


def device_read_bytes() -> int | None:
    """Bytes this process has read from storage so far, or None where the kernel does not say.

    Returns
    -------
    int or None
        None without ``/proc/self/io`` (a kernel without task I/O accounting,
        or a restricted ``/proc``).
    """
    try:
        with open(_PROC_IO, "rb") as stats:
            text = stats.read()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(b"read_bytes:"):
            return int(line.split()[1])
    return None
