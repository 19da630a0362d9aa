"""The stand-ins' tables: the real reference's results on the checks' fixed inputs.

The calls are made through the checks' own code where it computes fixed
things (the probes' start, samples and dataset networks), and otherwise as
the checks make them (the same expressions on the same samples, under every
input scale a check may infer), so the keys match what the checks ask on a
student's machine. Only outermost calls are kept: a function that calls
another tabled one inside the reference is recorded once. A hidden part's
expected values stay out.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps
from types import ModuleType
from typing import Any

import numpy as np

from checks.offline import call_key
from dlgrade.bundle.policy import REFERENCE_POLICIES

Tables = dict[str, dict[str, Any]]  # module short name -> call key -> result


def build_tables(visible: set[str]) -> Tables:
    """Every stand-in's table, computed by the real reference; a part's expected values
    only when the part is in `visible` (its id)."""
    with recording() as tables:
        _zygote_warm_calls()
        _numpy_backprop_calls(visible)
    return tables


@contextmanager
def recording() -> Iterator[Tables]:
    """Wrap every tabled reference function so its outermost calls are recorded."""
    tables: Tables = {short: {} for short in REFERENCE_POLICIES}
    depth = [0]
    saved: list[tuple[ModuleType, str, Any]] = []
    for short, policy in REFERENCE_POLICIES.items():
        module = importlib.import_module(f"reference.{short}")
        for name in policy.tabled:
            real = getattr(module, name)
            saved.append((module, name, real))
            setattr(module, name, _recorder(real, name, tables[short], depth))
    try:
        yield tables
    finally:
        for module, name, real in saved:
            setattr(module, name, real)


def _recorder(real: Any, name: str, table: dict[str, Any], depth: list[int]) -> Any:
    @wraps(real)
    def record(*args: Any, **kwargs: Any) -> Any:
        depth[0] += 1
        try:
            result = real(*args, **kwargs)
        finally:
            depth[0] -= 1
        key = call_key(name, args, kwargs)
        if depth[0] == 0 and key is not None:
            table[key] = result
        return result

    return record


def _zygote_warm_calls() -> None:
    """The grader's pre-warmed process calls these; so does `dlgrade check` on a student's."""
    from dlgrade.grading.zygote_server import WARM_CALLS

    for module, function, args in WARM_CALLS:
        if module.startswith("reference."):
            getattr(importlib.import_module(module), function)(*args)


def _numpy_backprop_calls(visible: set[str]) -> None:
    """Problem 5: the probes' inputs, and the expected values of Q2, its dataset part and Q3."""
    from checks import probes

    probes.p5_dataset_networks.cache_clear()
    probes.p5_probes()  # the start, the samples (chosen by forward passes), the networks
    samples, labels = probes.p5_samples()
    if "5-q2" in visible:
        _q2_calls(samples, labels)
    if "5-q3" in visible:
        _q3_calls(samples, labels)


def _q2_calls(samples: np.ndarray, labels: np.ndarray) -> None:
    """test_q2_forward_pass's expected losses and guesses, and its dataset part's."""
    from checks import probes
    from checks.p5_judging import SCALES
    from reference import numpy_backprop as ref

    params = ref.init_params()
    # test_q2_forward_pass: raw and /255 cases, under every scale infer_scale tries.
    cases = [(s, int(y)) for s, y in zip(samples, labels, strict=True)]
    cases += [(s / 255.0, int(y)) for s, y in zip(samples, labels, strict=True)]
    for factor in SCALES:
        for sample, label in cases:
            ref.feed_forward_sample(params, sample * factor, label)
    # _dataset_problems: feed_forward_dataset on the fixed set, both networks.
    x, y = probes.p5_dataset()
    networks = probes.p5_dataset_networks()
    for tag, factor in (("raw", 1.0), ("scaled", 1 / 255)):
        ref.evaluate(networks[tag], x * factor, y)


def _q3_calls(samples: np.ndarray, labels: np.ndarray) -> None:
    """test_q3_train_one_sample and q3_message: one step from the start, either orientation."""
    from checks.p5_judging import SCALES
    from reference import numpy_backprop as ref

    inputs = [s.astype(float) for s in samples] + [s / 255.0 for s in samples]
    for orientation in ("in_out", "out_in"):
        start = ref.orient(ref.init_params(), orientation)
        for x_sent, label in zip(inputs, [*labels, *labels], strict=True):
            for factor in dict.fromkeys((*SCALES, 1.0, 1 / 255)):
                ref.step(start, x_sent * factor, int(label))
