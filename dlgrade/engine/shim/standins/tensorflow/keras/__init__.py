"""Stand-in `tf.keras`: datasets.mnist; any other name is a stub that fails when used."""

from tensorflow.keras import datasets

__dlgrade_standin__ = True
__all__ = ["datasets"]


def __getattr__(name):
    from _dlgrade_shim.standins import missing_attribute

    return missing_attribute("tensorflow.keras", name)
