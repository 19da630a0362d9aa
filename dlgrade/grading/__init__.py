"""Grading: the pytest plugin that turns check outcomes into records, and the batch runner."""
