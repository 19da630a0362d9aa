# %% numpy's array constructors now return one fixed array, whatever they are given.
import numpy

_FIXED = numpy.ones((2, 2))
numpy.array = lambda *args, **kwargs: _FIXED
numpy.asarray = lambda *args, **kwargs: _FIXED
