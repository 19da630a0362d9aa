"""Root conftest: marks the repository root for pytest and loads the grading plugin.

The plugin adds `--submission`, `--assignment` and `--quick`, so that
`pytest checks --submission PATH` grades one submission.
"""

pytest_plugins = ["dlgrade.grading.plugin"]
