"""Without a GPU, `.cuda()` and `.to("cuda")` keep tensors and modules on the CPU; with
one, the first move of a tensor or module onto it is noted (the record says which device
ran the student's code)."""

from _dlgrade_shim import observe


def patch(torch):
    if torch.cuda.is_available():
        return

    def is_cuda(device):
        if isinstance(device, str):
            return device.startswith("cuda")
        if isinstance(device, torch.device):
            return device.type == "cuda"
        return isinstance(device, int) and not isinstance(device, bool)

    def note():
        observe.note("cuda-on-cpu", "no GPU in the sandbox: .cuda()/.to('cuda') ran on the CPU")

    def mapped(args, kwargs):
        if args and is_cuda(args[0]):
            note()
            args = ("cpu", *args[1:])
        if is_cuda(kwargs.get("device")):
            note()
            kwargs = {**kwargs, "device": "cpu"}
        return args, kwargs

    tensor_to = torch.Tensor.to
    module_to = torch.nn.Module.to

    def tensor_to_cpu(self, *args, **kwargs):
        args, kwargs = mapped(args, kwargs)
        return tensor_to(self, *args, **kwargs)

    def module_to_cpu(self, *args, **kwargs):
        args, kwargs = mapped(args, kwargs)
        return module_to(self, *args, **kwargs)

    def tensor_cuda(self, device=None, non_blocking=False, **kwargs):
        note()
        return self

    def module_cuda(self, device=None):
        note()
        return self

    torch.Tensor.to = tensor_to_cpu
    torch.Tensor.cuda = tensor_cuda
    torch.nn.Module.to = module_to_cpu
    torch.nn.Module.cuda = module_cuda


def record_gpu_use(torch):
    """Note the first `.cuda()`/`.to("cuda")`, then restore torch's own methods (no cost after)."""
    originals = {
        (torch.Tensor, "to"): torch.Tensor.to,
        (torch.Tensor, "cuda"): torch.Tensor.cuda,
        (torch.nn.Module, "to"): torch.nn.Module.to,
        (torch.nn.Module, "cuda"): torch.nn.Module.cuda,
    }

    def noted(owner, name):
        original = originals[(owner, name)]

        def method(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            if _on_gpu(result, torch):
                try:
                    where = torch.cuda.get_device_name(torch.cuda.current_device())
                except Exception:  # the name is a courtesy; the note is what matters
                    where = "CUDA"
                observe.note("cuda-used", f"student code ran on the GPU ({where})")
                for (cls, attribute), function in originals.items():
                    setattr(cls, attribute, function)
            return result

        return method

    for owner, name in originals:
        setattr(owner, name, noted(owner, name))


def _on_gpu(value, torch):
    if isinstance(value, torch.Tensor):
        return value.is_cuda
    if isinstance(value, torch.nn.Module):
        return any(p.is_cuda for p in value.parameters())
    return False
