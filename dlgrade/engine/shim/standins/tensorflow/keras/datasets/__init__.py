"""Stand-in `tf.keras.datasets`: mnist only."""

from tensorflow.keras.datasets import mnist

__all__ = ["mnist"]

__dlgrade_standin__ = True


def __getattr__(name):
    from _dlgrade_shim.standins import missing_attribute

    return missing_attribute("tensorflow.keras.datasets", name)
