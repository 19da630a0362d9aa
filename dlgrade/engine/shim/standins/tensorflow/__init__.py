"""A stand-in for TensorFlow: only `tf.keras.datasets.mnist.load_data` exists.

The grading sandbox has no TensorFlow; the homework only uses it to load MNIST.
"""

from tensorflow import keras

__version__ = "0.0-dlgrade-standin"
__all__ = ["keras"]


def __getattr__(name):
    raise AttributeError(
        f"tensorflow.{name} is not available in the grading sandbox: TensorFlow is not installed, "
        "only tf.keras.datasets.mnist.load_data is provided"
    )
