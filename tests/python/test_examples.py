"""The scripts in examples/ run as they stand, and the README's quickstart is one of them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_the_examples_are_there():
    names = {path.name for path in EXAMPLES}
    assert {"quickstart.py", "safetensors_weights.py", "multiprocessing_sharing.py", "torch_dlpack.py"} <= names


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(example, tmp_path):
    # Each in a fresh interpreter and an empty directory: the files it writes are its own.
    result = subprocess.run(
        [sys.executable, str(example)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{example.name} failed:\n{result.stdout}\n{result.stderr}"
    assert result.stdout, f"{example.name} printed nothing"


def test_readme_quickstart_is_the_example():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```python\n(.*?)```", readme, re.DOTALL)
    assert first_block is not None
    wanted = [line for line in first_block.group(1).splitlines() if line.strip()]
    lines = iter((ROOT / "examples" / "quickstart.py").read_text(encoding="utf-8").splitlines())
    # Every line of the README's block, in order (the example may add lines in between).
    missing = [line for line in wanted if not any(line == candidate for candidate in lines)]
    assert not missing, f"examples/quickstart.py lacks these README lines, in this order: {missing}"
