"""Stand-in `keras`: datasets.mnist only (same as tf.keras)."""

from keras import datasets

__all__ = ["datasets"]
