import numpy as np

weights = np.arange(6.0).reshape(2, 3)
