"""Probe code that runs INSIDE the student's kernel (the untrusted side).

These files are read as text by `checks.probes` and executed by the engine in
the student's namespace, where `_dlgrade_inputs` (dict of numpy arrays from
the grader) and `_dlgrade_emit(key, value)` are defined. They must import
nothing from the harness: the sandbox cannot see it. Whatever they emit is
untrusted data; the grader validates it and does every comparison itself.
"""
