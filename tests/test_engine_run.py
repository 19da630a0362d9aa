"""Running notebooks for real: keep-going, probe triggers, offline data, shims, figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from notebook_files import write_notebook

from dlgrade.engine import Probe, SandboxConfig, run_notebook
from dlgrade.engine.records import SourceFile
from dlgrade.engine.sandbox import bwrap_usable, gpu_present
from dlgrade.engine.workspace import DataUnavailable, data_root

CONFIG = SandboxConfig(cell_timeout_s=120, notebook_timeout_s=300, train_limit=100, test_limit=50)
pytestmark = pytest.mark.slow


def notebook(folder: Path, name: str, *cells: str) -> SourceFile:
    return SourceFile(write_notebook(folder / name, *cells), "ipynb", "ok")


@pytest.fixture(scope="module")
def datasets() -> Path:
    try:
        return data_root(CONFIG)
    except DataUnavailable as err:
        pytest.skip(f"datasets not cached on this machine ({err}); run `dlgrade data fetch`")


def kinds(run) -> set[str]:
    return {o.kind for o in run.observations}


def test_keeps_going_after_an_error_and_after_probes_fire_at_the_right_cell(tmp_path):
    source = notebook(
        tmp_path / "s",
        "nb.ipynb",
        "weights = [1.0, 2.0]\nbiases = None",
        "undefined_name",
        "biases = [0.0]",
        "weights[0] = 99.0",
    )
    probes = [
        Probe("initial", "_dlgrade_emit('w', weights); scratch = 1", after=("weights", "biases")),
        Probe(
            "final",
            "_dlgrade_emit('w', weights); _dlgrade_emit('leftover', 'scratch' in globals())",
        ),
    ]
    run = run_notebook(source, probes, CONFIG)
    assert run.status == "errors"
    assert [c.status for c in run.cells] == ["ok", "error", "ok", "ok"]
    assert run.cells[1].error_name == "NameError"
    # `biases` exists after cell 0 (as None), so the probe runs before the training cell.
    np.testing.assert_array_equal(run.probes["initial"].values["w"], [1.0, 2.0])
    np.testing.assert_array_equal(run.probes["final"].values["w"], [99.0, 2.0])
    assert run.probes["final"].values["leftover"] is False


def test_probe_waiting_for_names_never_defined_says_so(tmp_path):
    source = notebook(tmp_path / "s", "nb.ipynb", "x = 1")
    run = run_notebook(
        source, [Probe("p", "_dlgrade_emit('w', weights)", after=("weights",))], CONFIG
    )
    assert "never defined all of: weights" in run.probes["p"].error


def test_tensorflow_standin_loads_provisioned_mnist(tmp_path, datasets):
    source = notebook(
        tmp_path / "s",
        "dlf23_hw1_prob5.ipynb",
        "import tensorflow as tf\n"
        '(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data(path="mnist.npz")',
        "tf.Session()",
        # Colab inserts such imports on autocompletion: they must not fail the cell.
        "from tensorflow.python.ops.gen_array_ops import one_hot\nfrom keras.utils import to_categorical\nok = 1",
        "one_hot([1], 3)",
    )
    probe = Probe(
        "data",
        "_dlgrade_emit('x', x_train[:2]); _dlgrade_emit('y', y_train[:10]); _dlgrade_emit('n', len(x_test))",
    )
    run = run_notebook(source, [probe], CONFIG)
    values = run.probes["data"].values
    assert values["x"].shape == (2, 28, 28) and values["x"].dtype == np.uint8
    np.testing.assert_array_equal(values["y"], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])  # genuine MNIST
    assert values["n"] == 50
    assert "tensorflow-standin" in kinds(run)
    # Names beyond the MNIST loader import fine and fail only when used, saying why.
    assert run.cells[1].error_name == "TensorFlowNotAvailable"
    assert "tensorflow.Session is not available" in run.cells[1].error_value
    assert run.cells[2].status == "ok"
    assert run.cells[3].error_name == "TensorFlowNotAvailable"
    assert "gen_array_ops.one_hot is not available" in run.cells[3].error_value


def test_torchvision_fashion_mnist_offline_any_root_and_cuda_on_cpu(tmp_path, datasets):
    if gpu_present():
        pytest.skip("a GPU is present: .cuda() really moves tensors, no shim to test")
    source = notebook(
        tmp_path / "s",
        "hw1p4.ipynb",
        "import torch, torchvision\n"
        "train = torchvision.datasets.FashionMNIST('./FashionMNIST/', train=True, download=True,"
        " transform=torchvision.transforms.ToTensor())\n"
        "test = torchvision.datasets.FashionMNIST('./somewhere/else', train=False, download=True)",
        "model = torch.nn.Linear(784, 10).cuda()\n"
        "x = train[0][0].view(1, -1).to(torch.device('cuda'))\n"
        "out = model(x.cuda())",
    )
    probe = Probe(
        "p",
        "_dlgrade_emit('sizes', [len(train), len(test)]); _dlgrade_emit('label', int(train[0][1]));"
        "_dlgrade_emit('device', str(out.device))",
    )
    run = run_notebook(source, [probe], CONFIG)
    assert run.status == "ok", run.cells
    values = run.probes["p"].values
    assert values["sizes"] == [100, 50]
    assert values["label"] == 9  # FashionMNIST's first training label: ankle boot
    assert values["device"] == "cpu"
    assert {"cuda-on-cpu", "dataset-offline"} <= kinds(run)


def test_figure_recorder_captures_bar_chart_and_lines(tmp_path):
    source = notebook(
        tmp_path / "s",
        "plots.ipynb",
        "import matplotlib.pyplot as plt\nx = 1",
        "plt.bar(['T-shirt', 'Trouser', 'Bag'], [0.7, 0.2, 0.1])\nplt.title('probabilities')\nplt.show()",
        "plt.plot([1, 2, 3], [0.9, 0.5, 0.4], label='train')\nplt.xlabel('epoch')\nplt.legend()\n"
        "plt.savefig('curve.png')",
    )
    run = run_notebook(source, [], CONFIG)
    # savefig renders once, and the inline backend shows the open figure again at cell end.
    bar, curve, shown = run.figures
    assert shown.cell_index == 2 and shown.axes == curve.axes
    assert bar.cell_index == 1 and bar.axes[0]["title"] == "probabilities"
    assert bar.axes[0]["bars"][0]["heights"] == pytest.approx([0.7, 0.2, 0.1])
    assert bar.axes[0]["xticklabels"] == ["T-shirt", "Trouser", "Bag"]
    assert curve.cell_index == 2 and curve.axes[0]["legend"] == ["train"]
    assert curve.axes[0]["lines"][0]["y"] == pytest.approx([0.9, 0.5, 0.4])


def test_colab_content_folder_is_the_working_copy(tmp_path, datasets):
    if not bwrap_usable():
        pytest.skip("bubblewrap is not usable here: /content exists only inside the sandbox")
    source = notebook(
        tmp_path / "s",
        "colab.ipynb",
        "import os, torchvision\n"
        "data = torchvision.datasets.FashionMNIST('/content/data', train=False, download=True)\n"
        "open('/content/notes.txt', 'w').write('saved')",
        "print(sorted(os.listdir('.')))",
    )
    run = run_notebook(source, [Probe("p", "_dlgrade_emit('n', len(data))")], CONFIG)
    assert run.status == "ok", run.cells
    assert run.probes["p"].values["n"] == 50
    assert "'data'" in run.cells[1].text and "'notes.txt'" in run.cells[1].text


def test_malformed_source_is_not_run(tmp_path):
    path = tmp_path / "bad.ipynb"
    path.write_text("{not json")
    run = run_notebook(SourceFile(path, "ipynb", "ok"), [Probe("p", "pass")], CONFIG)
    assert run.status == "malformed" and run.cells == ()
    assert run.probes["p"].error.startswith("not run")
