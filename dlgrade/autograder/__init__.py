"""Gradescope autograders: build the zip (`build`), and grade inside Gradescope's container (`run`).

The zip holds Gradescope's two required files, `setup.sh` and
`run_autograder`, beside `autograder.toml` (what to grade) and `harness/`, a
copy of this project's source (dlgrade, checks, reference, reports). See
docs/gradescope.md for the layout Gradescope gives it and how to test a zip
without Gradescope.
"""
