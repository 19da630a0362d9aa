"""MNIST/FashionMNIST batches decoded in one step instead of one PIL image at a time.

torchvision's `MNIST.__getitem__` turns each uint8 image into a PIL image and
runs the transform on it, and a DataLoader asks for 64 such items per batch:
on a CPU that per-image work is about half of a typical epoch. For the
transforms students use (`ToTensor()`, then any `Normalize`, then a flattening
`Lambda`) every image goes through the same arithmetic, so we give the
dataset a `__getitems__` (which the DataLoader's fetcher prefers) that does
it for the whole batch at once:

    ToTensor   uint8 -> default float dtype, / 255        (as to_tensor does, per element)
    Normalize  the student's own Normalize object, on the (B, 1, 28, 28) batch
    Lambda     the student's own function, on each sample in order

The values are bit-for-bit those of torchvision's path: the same float
operations on the same elements, read from the dataset's live `data` and
`targets` at every batch (nothing is cached, so later edits to them count).
Anything else (another transform, a subclass with its own `__getitem__`,
data that is not a CPU uint8 tensor) takes torchvision's own path, and so
does any error here, noted once as an observation. Runs inside the student's
kernel: it imports nothing from the harness.
"""

import dis
import operator

from _dlgrade_shim import observe

SERVED = ("MNIST", "FashionMNIST")
# Tensor methods a flattening Lambda may call: pure reshapes of its argument.
RESHAPES = frozenset({"view", "reshape", "flatten", "squeeze", "unsqueeze", "ravel"})
_IGNORED_OPS = frozenset(
    {"RESUME", "PRECALL", "CALL", "CALL_METHOD", "CALL_FUNCTION", "CALL_FUNCTION_KW", "CACHE",
     "PUSH_NULL", "NOP", "KW_NAMES", "RETURN_VALUE", "CALL_KW"}
)  # fmt: skip


def patch(module):
    """Give torchvision's MNIST (and FashionMNIST, which inherits it) a batched fetch."""
    import torch

    mnist = module.MNIST
    original_getitem = mnist.__getitem__

    def __getitems__(self, indices):
        batch = None
        if type(self).__name__ in SERVED and type(self).__getitem__ is original_getitem:
            try:
                batch = decoded_batch(self, indices, torch)
            except Exception as err:  # never the student's problem: use torchvision's path
                observe.note(
                    "shim-error",
                    f"fast {type(self).__name__} batches fell back to torchvision: {err!r}",
                )
        if batch is None:
            return [self[index] for index in indices]
        return batch

    mnist.__getitems__ = __getitems__


def decoded_batch(dataset, indices, torch):
    """[(image, target), ...] for `indices` as torchvision would give them, or None when the
    dataset or its transform is not one we reproduce exactly."""
    data, targets = dataset.data, dataset.targets
    if not (
        isinstance(data, torch.Tensor)
        and data.dtype == torch.uint8
        and data.dim() == 3
        and data.device.type == "cpu"
        and isinstance(targets, torch.Tensor)
        and targets.dim() == 1
        and not targets.is_floating_point()
        and not targets.is_complex()
    ):
        return None
    plan = transform_plan(dataset.transform, torch)
    if plan is None:
        return None
    vectorised, per_sample = plan
    count = len(data)
    positions = [operator.index(i) for i in indices]
    positions = [i + count if i < 0 else i for i in positions]
    if not all(0 <= i < count for i in positions):
        return None  # torchvision's path raises its own IndexError
    index = torch.as_tensor(positions, dtype=torch.long)
    # to_tensor: (H, W) uint8 -> (1, H, W) default float dtype, then .div(255).
    images = data.index_select(0, index).unsqueeze(1).to(dtype=torch.get_default_dtype()).div(255)
    for step in vectorised:
        images = step(images)  # the student's Normalize, on the whole batch
    labels = targets.index_select(0, index).tolist()
    samples = []
    for image, label in zip(images.unbind(0), labels, strict=True):
        for step in per_sample:
            image = step(image)
        if dataset.target_transform is not None:
            label = dataset.target_transform(label)
        samples.append((image, label))
    return samples


def transform_plan(transform, torch):
    """(steps applied to the whole batch, steps applied per sample), or None if unknown."""
    from torchvision.transforms import transforms as T

    if type(transform) is T.ToTensor:
        return (), ()
    if type(transform) is not T.Compose or not isinstance(transform.transforms, list | tuple):
        return None
    steps = list(transform.transforms)
    if not steps or type(steps[0]) is not T.ToTensor:
        return None
    vectorised, per_sample = [], []
    for step in steps[1:]:
        if type(step) is T.Normalize and not per_sample:
            vectorised.append(step)  # element-wise: batch and sample give the same values
        elif type(step) is T.Normalize or (
            type(step) is T.Lambda and is_reshape(step.lambd, torch)
        ):
            per_sample.append(step)
        else:
            return None
    return tuple(vectorised), tuple(per_sample)


def is_reshape(function, torch):
    """`lambda x: x.view(-1)`, `x.reshape(-1, 784)`, `torch.flatten(x)` and the like.

    Only code that loads its one argument, integer constants and one of the
    reshaping methods (of the argument or of the real torch module) is accepted.
    """
    code = getattr(function, "__code__", None)
    if code is None or code.co_argcount != 1 or getattr(function, "__closure__", None):
        return False
    if code.co_flags & 0x0C or getattr(function, "__defaults__", None):  # *args / **kwargs
        return False
    argument = code.co_varnames[0]
    reshaped = False
    for instruction in dis.get_instructions(code):
        name, value = instruction.opname, instruction.argval
        if name in _IGNORED_OPS or (name == "LOAD_FAST" and value == argument):
            continue
        if name == "LOAD_CONST" and _integers(value):
            continue
        if name in ("LOAD_METHOD", "LOAD_ATTR") and value in RESHAPES:
            reshaped = True
            continue
        if (
            name == "LOAD_GLOBAL"
            and value == "torch"
            and function.__globals__.get("torch") is torch
        ):
            continue
        return False
    return reshaped


def _integers(value):
    if isinstance(value, tuple):
        return all(_integers(v) for v in value)
    return isinstance(value, int) and not isinstance(value, bool)
