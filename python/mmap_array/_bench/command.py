"""``mmap-array bench``: every metric, ours beside the anchors, into a report and a plot.

Runs each metric in this one process, interleaving the repetitions of mmap_array
and of every anchor (numpy.memmap, np.load, np.fromfile, the stdlib mmap,
pyarrow, safetensors, torch) and of the physical floor measured in C++, then
writes a Markdown report with the targets, met or missed, and a PNG plot.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

from . import plot, report, system
from .context import Context
from .metrics import METRICS
from .scale import FULL, QUICK

# Cold measurements need a filesystem with a backing device: /var/tmp is on the disk where
# /tmp is often tmpfs, whose pages cannot be evicted.
_DEFAULT_BASES = ("/var/tmp",)


def add_bench_command(commands: argparse._SubParsersAction) -> None:
    """Register ``bench`` on the CLI's subcommand parser."""
    parser = commands.add_parser(
        "bench",
        help="benchmark mmap_array against numpy.memmap, np.load, pyarrow, safetensors, torch and the floor",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    parser.add_argument("--quick", action="store_true",
                        help="small files and few repetitions: a smoke run (under a minute)")
    parser.add_argument("--dir", default=None,
                        help="where the test files go, on the disk to measure (default: a new directory in /var/tmp)")
    parser.add_argument("--output", default=None,
                        help="the Markdown report; '-' for stdout (default: docs/benchmarks.md in a checkout of "
                             "mmap_array, else stdout)")
    parser.add_argument("--plot", default=None,
                        help="the PNG plot (default: beside the report, as .png; none when the report goes to stdout)")
    parser.add_argument("--only", default=None,
                        help=f"comma-separated metrics to run (default: all): {', '.join(METRICS)}")
    parser.set_defaults(run=run_bench)


def find_repository(start: str) -> str | None:
    """The checkout of mmap_array containing ``start``, found by its pyproject.toml; or None.

    Parameters
    ----------
    start : str
        A directory, usually the current one.

    Returns
    -------
    str or None
    """
    here = os.path.abspath(start)
    while True:
        project = os.path.join(here, "pyproject.toml")
        if os.path.isfile(project):
            with open(project, encoding="utf-8") as file:
                if 'name = "mmap_array"' in file.read():
                    return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _default_base() -> str:
    for base in _DEFAULT_BASES:
        if os.path.isdir(base) and os.access(base, os.W_OK | os.X_OK):
            return base
    return tempfile.gettempdir()


def _selected(only: str | None) -> list[str]:
    if only is None:
        return list(METRICS)
    keys = [k.strip() for k in only.split(",") if k.strip()]
    unknown = [k for k in keys if k not in METRICS]
    if unknown or not keys:
        raise ValueError(f"--only takes metrics among {', '.join(METRICS)}; got {only!r}")
    return keys


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_bench(args: argparse.Namespace) -> int:
    """Run the benchmark; write the report and the plot; return the exit status."""
    scale = QUICK if args.quick else FULL
    keys = _selected(args.only)
    repository = find_repository(os.getcwd())
    output = args.output or (os.path.join(repository, "docs", "benchmarks.md") if repository else "-")
    plot_path = args.plot or (os.path.splitext(output)[0] + ".png" if output != "-" else None)
    if plot_path is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise ValueError("the plot needs matplotlib: pip install matplotlib (or give --output -)") from None
    base = os.path.abspath(args.dir) if args.dir else _default_base()
    if not os.path.isdir(base):
        raise FileNotFoundError(2, "no such directory for the benchmark files", base)

    # A fresh directory inside the base: the run never touches files it did not write.
    work = tempfile.mkdtemp(prefix="mmap_array-bench-", dir=base)
    started = time.perf_counter()
    try:
        machine = system.describe(base, repository)
        _progress(f"mmap-array bench ({scale.name}): files in {work} ({machine['filesystem']})")
        context = Context(work, scale, _progress)
        results = []
        for number, key in enumerate(keys, 1):
            began = time.perf_counter()
            _progress(f"[{number}/{len(keys)}] {key}")
            results.append(METRICS[key](context))
            _progress(f"  done in {time.perf_counter() - began:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # Other work on the machine is the main source of noise: say how much there was.
    machine["load average after (1, 5, 15 min)"] = system.load_average()

    shown_plot = None
    if plot_path is not None:
        shown_plot = os.path.relpath(plot_path, os.path.dirname(os.path.abspath(output))) if output != "-" else plot_path
    text = report.render(results, machine, scale, shown_plot)
    if output == "-":
        sys.stdout.write(text)
    else:
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        with open(output, "w", encoding="utf-8") as file:
            file.write(text)
        _progress(f"report: {output}")
    if plot_path is not None:
        plot.draw(results, plot_path, f"mmap_array bench ({scale.name}) — {machine['CPU']}, {machine['date']}")
        _progress(f"plot: {plot_path}")
    for result in results:
        for verdict in result.verdicts:
            _progress(f"  {result.title}: {verdict.target.text}: {report.format_measured(verdict)} "
                      f"{report.format_verdict(verdict).replace('**', '')}")
    _progress(f"total {time.perf_counter() - started:.0f} s")
    return 0
