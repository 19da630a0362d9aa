"""The sources `build_examples.py` generates the demo class from, one module per job.

* `notebooks`: the folder and file names, the declared operations and the cell helpers;
* `fall`: the fall 2023 full-marks notebooks of problems 3 and 4;
* `spring`: the spring 2023 full-marks notebook of problem 4;
* `p5`: the fill-in edits that complete the problem-5 starter, both editions;
* `mistakes`: each mistake folder's operations on a copy of the fall full-marks folder.
"""
