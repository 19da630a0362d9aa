"""Evidence once, judgment any time: every notebook run is kept, and judged again from disk.

* `keys`: what produced a run (notebook, hand-in files, probe and watch code, data
  slice, engine), the key it is stored and found under;
* `codec`: a `NotebookRun` as files and back, validated like a probe value;
* `store`: one student's OUT/<student>/evidence/ (kept, found, refused, and why);
* `plugin`: the pytest plugin that hands the checks runs from the store
  (through `checks.notebook_runs.RUNS_OVERRIDE`);
* `regrade`: `dlgrade regrade OUT`, re-judging a graded class.
"""
