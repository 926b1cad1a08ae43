"""Sphinx configuration of the mmap_array documentation (built by scripts/docs.sh).

The API reference is autodoc of the *installed* package: the docstrings written in
bindings/*docstrings.hpp and python/mmap_array/*.py, and the signatures nanobind
renders (nb::sig where the binding converts arguments by hand). The CLI reference is
the argparse parser itself. formats.md, reliability.md and benchmarks.md (written by
`mmap-array bench`) are used as they are.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import sphinx.util.inspect as sphinx_inspect
from sphinx.application import Sphinx
from sphinx.util import logging

import mmap_array

project = "mmap_array"
author = "the mmap_array authors"
copyright = "the mmap_array authors, MIT license"
release = version = mmap_array.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinxarg.ext",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns: list[str] = []
# Headings of the Markdown pages get anchors, so pages can link to their sections.
myst_heading_anchors = 3

autodoc_member_order = "groupwise"
# The constructor's signature line (nanobind renders it at the top of __init__.__doc__) is
# found only when the __init__ docstring is read too.
autoclass_content = "both"
autodoc_typehints = "signature"
# numpydoc renders each docstring's sections; the members are listed by autodoc itself.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "furo"
html_title = f"mmap_array {release}"
html_static_path: list[str] = []


# nanobind functions have no inspect.signature(): each __doc__ starts with the signature
# line nanobind renders (from nb::sig where the binding gives one). autodoc reads that
# line for functions and methods itself; for a property's type it asks
# sphinx.util.inspect.signature() of the getter, which is taught the same line here.
_SIGNATURE_LINE = re.compile(r"^\w*(\(.*\) -> .+)$")
_introspected_signature = sphinx_inspect.signature


def _signature(subject: Any, *args: Any, **kwargs: Any) -> inspect.Signature:
    try:
        return _introspected_signature(subject, *args, **kwargs)
    except ValueError:
        doc = getattr(subject, "__doc__", None) if hasattr(subject, "__nb_signature__") else None
        line = _SIGNATURE_LINE.match((doc or "").partition("\n")[0])
        if line is None:
            raise
        return sphinx_inspect.signature_from_str(line.group(1))


sphinx_inspect.signature = _signature


def _constructor_signature(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, signature: str | None, return_annotation: str | None
) -> tuple[str, str | None] | None:
    """Drop ``self`` from a class signature taken from ``__init__``'s signature line."""
    if what in ("class", "exception") and signature and signature.startswith("(self"):
        return "(" + signature[len("(self"):].lstrip(", "), return_annotation
    return None


def _check_api_reference(app: Sphinx) -> None:
    """Warn (an error under -W) about a public name the API reference does not document."""
    page = (Path(__file__).parent / "api.rst").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\.\. auto\w+:: mmap_array\.(\w+)", page, re.MULTILINE))
    documented |= set(re.findall(r"^\.\. py:data:: (\w+)", page, re.MULTILINE))
    for name in sorted(set(mmap_array.__all__) - documented):
        logging.getLogger(__name__).warning(
            "mmap_array.%s is in __all__ but not in docs/api.rst", name, location="api")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _check_api_reference)
    app.connect("autodoc-process-signature", _constructor_signature)
    return {"parallel_read_safe": True}
