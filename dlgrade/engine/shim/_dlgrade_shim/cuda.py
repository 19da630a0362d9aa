"""Without a GPU, `.cuda()` and `.to("cuda")` keep tensors and modules on the CPU."""

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
