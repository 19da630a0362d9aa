"""A notebook nested past Python's JSON reader limit, for the tests that need one.

Not collected by pytest (no `test_` prefix); test modules import it.
"""

from __future__ import annotations

import json
from pathlib import Path


def deeply_nested_notebook(path: Path, code: str, depth: int = 1_500_000) -> Path:
    """A notebook whose one cell carries `depth` nested lists in its outputs (3 MB for 1.5M).

    Python's JSON reader recurses once per level, so reading it raises
    RecursionError: what a corrupted or hostile notebook does to a reader.
    The cell's `code` stays readable in the raw text.
    """
    cell = {
        "cell_type": "code",
        "execution_count": 1,
        "metadata": {},
        "source": code,
        "outputs": [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                     "data": {"application/json": "@NESTED@"}}],
    }  # fmt: skip
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(notebook).replace('"@NESTED@"', "[" * depth + "]" * depth)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
