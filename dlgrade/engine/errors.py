"""Exceptions the engine raises; each message says what to do about it."""

from __future__ import annotations


class EngineError(Exception):
    """Base class for engine failures that are the grader's, not the student's."""


class SandboxUnavailable(EngineError):
    """The requested isolation (e.g. bubblewrap) cannot be set up on this machine."""


class KernelStartError(EngineError):
    """The notebook kernel did not start; the message carries its log tail."""


class InterfaceError(Exception):
    """A probe value is missing or not the kind of value the check needs."""


class ValueMismatch(InterfaceError):
    """A probe value exists but has the wrong shape, dtype or is not finite."""
