"""Each mistake folder: declared operations on a copy of the fall full-marks folder."""

from example_sources.fall import FALL_P4_COMMENT, FALL_P4_FIGURE
from example_sources.notebooks import P3, P4, P5, Edit, Operation, Truncate, UseStarter

# --------------------------------------------------------------------------- mistake examples

# folder -> operations on a copy of fall2023-full-marks (one mistake each)
MISTAKES: dict[str, tuple[Operation, ...]] = {
    "fall2023-misread-dataset2": (
        Edit(P3,
             "# dataset 2 (read off the plot: after x = 5 the slope is only 1/2)\n"
             "x2 = np.arange(11)\n"
             "y2 = np.array([0, 1, 2, 3, 2, 1, 1.5, 2, 2.5, 3, 3.5])",
             "# dataset 2 (read off the plot)\n"
             "x2 = np.arange(11)\n"
             "y2 = np.array([0, 1, 2, 3, 2, 1, 2, 3, 4, 5, 6])"),
    ),
    "fall2023-dsigmoid-twice": (
        Edit(P5, "delta = (weights[i] @ delta) * dsigmoid(zs[i - 1])",
             "delta = (weights[i] @ delta) * dsigmoid(activations[i])"),
    ),
    "fall2023-update-in-loop": (
        Edit(P5, """\
        bias_gradients[i] = delta
        if i > 0:
            # back through weights[i], then through the sigmoid of layer i - 1
            delta = (weights[i] @ delta) * dsigmoid(zs[i - 1])

    # Update weights & biases based on your calculated gradient
    for i in range(len(weights)):
        weights[i] -= weight_gradients[i] * learning_rate
        biases[i] -= bias_gradients[i].flatten() * learning_rate""", """\
        bias_gradients[i] = delta
        # Update weights & biases based on your calculated gradient
        weights[i] -= weight_gradients[i] * learning_rate
        biases[i] -= bias_gradients[i].flatten() * learning_rate
        if i > 0:
            # back through weights[i], then through the sigmoid of layer i - 1
            delta = (weights[i] @ delta) * dsigmoid(zs[i - 1])"""),
    ),
    "fall2023-loss-vs-prediction": (
        Edit(P5,
             "    # softmax + cross-entropy: dL/dz at the output is yHat - onehot(y)\n"
             "    delta = activations[-1] - integer_to_one_hot(y, 10)\n",
             "    # softmax + cross-entropy: dL/dz at the output is yHat - onehot(guess)\n"
             "    delta = activations[-1] - integer_to_one_hot(np.argmax(activations[-1]), 10)\n"),
    ),
    "fall2023-logits-as-probs": (
        Edit(P4, "probs = torch.softmax(logits, dim=1).cpu().numpy()",
             "probs = logits.cpu().numpy()"),
    ),
    "fall2023-no-prob-figure": (
        Edit(P4, FALL_P4_FIGURE, """\
predicted = logits.argmax(dim=1).cpu()

for row in range(len(picks)):
    print('Predicted:', class_names[predicted[row]], '  Label:', class_names[labels[row]])"""),
        Edit(P4, FALL_P4_COMMENT, """\
**Comments on the predictions.** All three predictions match the labels: the ankle boot, the pullover
and the trouser are classified correctly. Pullover, Coat and Shirt have nearly the same outline at
28x28, so those are the classes the network mixes up most."""),
    ),
    "fall2023-bad-init-scale": (
        Edit(P5, "W2 = rng.normal(0, 1 / math.sqrt(max(32, 32)), size=(32, 32))",
             "W2 = rng.normal(0, 1, size=(32, 32))"),
    ),
    "fall2023-syntax-error": (
        Edit(P4, "for row in range(len(picks)):\n    axes[row, 0].imshow",
             "for row in range(len(picks))\n    axes[row, 0].imshow"),
    ),
    "fall2023-untouched-starter": (
        UseStarter(P5),
    ),
    "fall2023-malformed-notebook": (
        # the file stops in the middle of the model cell: not valid JSON
        Truncate(P4, '"class FashionNet(nn.Module):\\n",'),
    ),    # the notebooks are right; only answers.toml is broken (an unclosed string)
    "fall2023-bad-answers": (),
}

