"""What the student bundle keeps of each reference module, and which checks it replaces.

A name the assignment itself states (sizes, seeds, the datasets students fit,
record types) is `shared`: copied by value. A function whose results the
checks need on fixed inputs is `tabled`: the stand-in serves the reference's
results for exactly those inputs. `own` functions are plumbing the bundle
implements itself (reordering weights, flattening a sample, the residuals of a
fit, which need only the data). Every other public function refuses, and every
other constant is withheld: a part that needs one is checked by the TA.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModulePolicy:
    shared: tuple[str, ...] = ()
    tabled: tuple[str, ...] = ()
    own: tuple[str, ...] = ()  # functions of dlgrade.bundle.plumbing


REFERENCE_POLICIES = {
    "numpy_backprop": ModulePolicy(
        shared=("SIZES", "LEARNING_RATE", "SEED", "Orientation", "Params"),
        tabled=("init_params", "feed_forward_sample", "step", "evaluate", "train_epoch"),
        own=("orient", "as_input"),
    ),
    "relu_fit": ModulePolicy(
        shared=(
            "N_PARAMS",
            "PARAM_NAMES",
            "DataPoints",
            "DATASET_1",
            "DATASET_2",
            "DATASET_2_MISREAD",
            "THETA_0",
        ),
        own=("residuals",),
    ),
    "fashion_mlp": ModulePolicy(shared=("CLASS_NAMES", "LAYER_SIZES", "LEARNING_RATE")),
    # Problems whose only check is the answer itself: the checks parse the student's
    # answer (its form), then ask the reference, which refuses: checked by the TA.
    "vector_calculus": ModulePolicy(tabled=("grad_norm_squared_np", "minimiser_np")),
    "l1_regression": ModulePolicy(),
    "softmax_jacobian": ModulePolicy(),
    "universal_approx": ModulePolicy(),
}

# Check helpers that are near-answers themselves (the reference with one known mistake
# put in): replaced by stand-ins that keep their descriptions and refuse to run.
CHECK_POLICIES = {
    "p5_variants": ModulePolicy(shared=("BUGS", "FORWARD_BUGS")),
}
