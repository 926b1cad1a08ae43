"""The side-by-side benchmark suite behind ``mmap-array bench``.

One module per job: ``harness`` (contestants, round-robin runs), ``stats``
(medians, ratios, verdicts), ``cache`` (eviction and its proof),
``iocount`` (device reads), ``datasets`` and ``scale`` (the files and sizes),
``system`` (the machine), ``metrics/`` (one module per metric family),
``report`` and ``plot`` (the outputs), ``command`` (the CLI).
"""
