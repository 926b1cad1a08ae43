"""What every metric family gets: the directory, the scale, the datasets and the cold probe.

Datasets are written on first use and shared, so that a run of a few metrics
(``--only``) writes only the files those metrics read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import cache, datasets
from .scale import Scale


@dataclass
class Context:
    """A benchmark run in progress.

    Attributes
    ----------
    directory : str
        Where the files are written (on the disk being measured).
    scale : Scale
    progress : callable
        Takes one line of progress for the user (stderr).
    """

    directory: str
    scale: Scale
    progress: Callable[[str], None] = lambda line: None
    _made: dict[str, Any] = field(default_factory=dict)
    _cold_problem: str | None = None
    _cold_probed: bool = False

    def _once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._made:
            self.progress(f"  writing the {key} file")
            self._made[key] = make()
        return self._made[key]

    def raw(self) -> datasets.ArrayFile:
        """The raw float64 file (``ndarray.tofile``)."""
        return self._once("raw float64", lambda: datasets.raw_array(self.directory, self.scale))

    def npy(self) -> datasets.ArrayFile:
        """The same values as .npy (``np.save``)."""
        return self._once("npy", lambda: datasets.npy_array(self.directory, self.raw()))

    def tensors(self) -> datasets.TensorFile:
        """The safetensors file."""
        return self._once("safetensors", lambda: datasets.tensor_file(self.directory, self.scale))

    def rows(self) -> datasets.RowFile:
        """The gather file."""
        return self._once("gather", lambda: datasets.row_file(self.directory, self.scale))

    def path(self, name: str) -> str:
        """A path in the benchmark directory for a file a metric writes itself."""
        return os.path.join(self.directory, name)

    def cold_problem(self) -> str | None:
        """Why files here cannot be made cold, or None if eviction works (probed once)."""
        if not self._cold_probed:
            self._cold_probed = True
            probe = self.path("cold-probe.bin")
            with open(probe, "wb") as file:
                file.write(os.urandom(1 << 20))
            try:
                cache.make_warm(probe)
                cache.make_cold(probe)
            except cache.EvictionFailed as error:
                self._cold_problem = str(error)
            finally:
                os.unlink(probe)
        return self._cold_problem
