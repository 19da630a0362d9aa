"""Gradescope autograders: build the zip (`build`), and grade inside Gradescope's container (`run`).

The zip holds Gradescope's two required files, `setup.sh` and
`run_autograder`, beside `autograder.toml` (what to grade) and `harness/`, a
copy of this project's source (dlgrade, checks, reference, reports). The
README ("A Gradescope autograder") says how to try a zip without Gradescope;
tests/test_autograder.py does it.
"""
