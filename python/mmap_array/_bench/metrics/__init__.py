"""The metric families, one module each, and the order a run goes through them.

Cheap metrics run first, so an interrupted or failing run has already measured
them; the gathers, which need the largest file, run last.
"""

from __future__ import annotations

from collections.abc import Callable

from ..context import Context
from ..metric import MetricResult
from . import gather, open_latency, passes, properties, writes

METRICS: dict[str, Callable[[Context], MetricResult]] = {
    "open_raw": open_latency.open_raw,
    "open_npy": open_latency.open_npy,
    "open_safetensors": open_latency.open_safetensors_arrays,
    "property_read": properties.property_read,
    "warm_pass": passes.warm_pass,
    "warm_pass_populated": passes.warm_pass_populated,
    "cold_pass": passes.cold_pass,
    "write_save": writes.write_save,
    "create_fill_flush": writes.create_fill_flush,
    "cold_gather": gather.cold_gather,
    "warm_gather": gather.warm_gather,
}
