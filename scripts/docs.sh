#!/usr/bin/env bash
# Builds the documentation site with Sphinx into build/docs (open build/docs/index.html),
# every warning an error. The API reference is generated from the installed package, so
# install it first, with the docs extra: python -m pip install ".[docs]".
# scripts/test.sh runs this after the Python tests. Extra arguments go to sphinx-build.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python || command -v python3)}
# -E: read every page again; the docstrings come from the installed package, which
# Sphinx's change tracking cannot see.
"$PYTHON" -m sphinx -W --keep-going -E -q -b html docs "${DOCS_OUTPUT:-build/docs}" "$@"
echo "documentation: ${DOCS_OUTPUT:-build/docs}/index.html"
