"""torchvision MNIST/FashionMNIST `download()` served from the provisioned copy."""

import os
from pathlib import Path

from _dlgrade_shim import observe

_SERVED = ("MNIST", "FashionMNIST")


def patch(module):
    original = module.MNIST.download

    def download(self):
        if self._check_exists():
            return
        name = type(self).__name__
        root = os.environ.get("DLGRADE_DATA_ROOT")
        source = Path(root, name, "raw") if root else None
        if name not in _SERVED or source is None or not source.is_dir():
            return original(self)
        target = Path(self.raw_folder)
        target.mkdir(parents=True, exist_ok=True)
        for item in source.iterdir():
            if not (target / item.name).exists():
                (target / item.name).symlink_to(item)
        observe.note(
            "dataset-offline", f"{name} served from the grader's copy (root {str(self.root)!r})"
        )

    module.MNIST.download = download
