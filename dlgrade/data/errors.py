"""The one exception the data layer raises for anything a user must fix."""

from __future__ import annotations


class DataError(Exception):
    """A dataset file is missing, corrupt or not what it claims to be.

    The message always names the file (or source) involved and, where there is
    one, the command that fixes the problem.
    """
