# ruff: noqa: F821 -- _dlgrade_inputs, _dlgrade_emit and the p5_state prelude are injected
"""Problem 5, Q3: one train_one_sample call from a fixed state, per sample."""


def _dlgrade_probe():
    samples, labels = _dlgrade_inputs["samples"], _dlgrade_inputs["labels"]
    for k, (sample, label) in enumerate(zip(samples, labels, strict=True)):
        _dlgrade_set_state()
        try:
            train_one_sample(sample, int(label), learning_rate=0.003)
        except TypeError:  # a signature without the keyword
            _dlgrade_set_state()
            train_one_sample(sample, int(label))
        weights, biases = _dlgrade_read_state()
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            _dlgrade_emit(f"s{k}_w{i}", w)
            _dlgrade_emit(f"s{k}_b{i}", b)


_dlgrade_probe()
