"""The ``mmap-array`` command line: one subcommand per job.

Errors are reported as one line on stderr with exit status 1, never as a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from ._bench.command import add_bench_command
from ._convert import add_convert_command
from ._demo import add_demo_command
from ._info import add_info_command


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``mmap-array`` with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="mmap-array",
        description="Zero-copy memory-mapped NumPy arrays.",
    )
    parser.add_argument("--version", action="version", version=f"mmap_array {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_bench_command(commands)
    add_convert_command(commands)
    add_demo_command(commands)
    add_info_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mmap-array`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (OSError, ValueError, TypeError) as error:
        print(f"mmap-array {args.command}: error: {error}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"mmap-array {args.command}: error: out of memory", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"mmap-array {args.command}: interrupted", file=sys.stderr)
        return 130
