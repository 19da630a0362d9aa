"""Code that runs inside the sandboxed kernel (standard library + what the student imports).

This directory, and only it, is put on the kernel's PYTHONPATH. Nothing here
may import `dlgrade`: the repository is not visible inside the sandbox.
"""
