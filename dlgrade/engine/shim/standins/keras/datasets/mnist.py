from tensorflow.keras.datasets.mnist import load_data

__all__ = ["load_data"]
