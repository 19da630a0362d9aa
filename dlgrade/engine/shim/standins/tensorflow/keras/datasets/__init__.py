"""Stand-in `tf.keras.datasets`: mnist only."""

from tensorflow.keras.datasets import mnist

__all__ = ["mnist"]
