"""Stand-in `keras`: datasets.mnist (same as tf.keras); other names are stubs."""

from keras import datasets

__dlgrade_standin__ = True
__all__ = ["datasets"]


def __getattr__(name):
    from _dlgrade_shim.standins import missing_attribute

    return missing_attribute("keras", name)
