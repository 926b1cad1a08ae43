"""Command-line interface: ``python -m mmap_array`` and ``mmap-array``."""

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
