"""dlgrade: a grading and verification harness for deep-learning homework."""

__version__ = "0.1.0"
