"""A stand-in for TensorFlow: only `tf.keras.datasets.mnist.load_data` exists.

The grading sandbox has no TensorFlow; the homework only uses it to load MNIST.
Any other name imports as a stub that fails when used (see _dlgrade_shim.standins).
"""

from tensorflow import keras

__version__ = "0.0-dlgrade-standin"
__dlgrade_standin__ = True
__all__ = ["keras"]


def __getattr__(name):
    from _dlgrade_shim.standins import missing_attribute

    return missing_attribute("tensorflow", name)
