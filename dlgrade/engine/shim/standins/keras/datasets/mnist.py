from tensorflow.keras.datasets.mnist import load_data

__all__ = ["load_data"]

__dlgrade_standin__ = True


def __getattr__(name):
    from _dlgrade_shim.standins import missing_attribute

    return missing_attribute("keras.datasets.mnist", name)
