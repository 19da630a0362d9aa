"""A deeply nested notebook is read without running anyone's finalizers on a starved stack.

The JSON reader recurses to the interpreter's limit on such a file; a garbage
collection there would run finalizers of unrelated objects with no recursion
budget left, and they die as "unraisable" RecursionErrors (seen in a CI run of
the whole suite). The collector is paused while untrusted JSON is parsed.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from nested_notebook import deeply_nested_notebook

from dlgrade.engine.notebooks import MalformedSource, load_notebook
from reports.similarity import SimilarityError, notebook_code


def _recurse(levels: int) -> int:
    return 0 if levels == 0 else 1 + _recurse(levels - 1)


@pytest.fixture
def starved_collections() -> Iterator[list[int]]:
    """Collections that began with less than 50 frames of recursion budget left."""
    starved: list[int] = []

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            try:
                _recurse(50)
            except RecursionError:
                starved.append(info["generation"])

    threshold = gc.get_threshold()
    gc.set_threshold(10)  # collect often, so one would fall inside any long parse
    gc.callbacks.append(watch)
    try:
        yield starved
    finally:
        gc.callbacks.remove(watch)
        gc.set_threshold(*threshold)


@pytest.fixture(scope="module")
def deep(tmp_path_factory: pytest.TempPathFactory):
    return deeply_nested_notebook(tmp_path_factory.mktemp("deep") / "hw.ipynb", "x = 1")


def test_reading_a_deep_notebook_collects_nothing_on_the_starved_stack(deep, starved_collections):
    with pytest.raises(MalformedSource, match="nested too deeply"):
        load_notebook(deep)
    with pytest.raises(SimilarityError, match="nested deeper"):
        notebook_code(deep)
    assert starved_collections == []


def test_the_watch_sees_a_collection_on_a_starved_stack(starved_collections):
    """The watch itself can fail: a collection started deep in recursion is seen."""

    def deep_allocations(levels: int) -> None:
        if levels:
            [object() for _ in range(20)]
            deep_allocations(levels - 1)

    with pytest.raises(RecursionError):
        deep_allocations(10**6)
    assert starved_collections
