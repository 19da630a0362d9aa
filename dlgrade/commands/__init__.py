"""Sub-commands of `dlgrade`: each module defines `register(subparsers)`.

`register` adds one sub-parser and sets `func` on it: a callable taking the
parsed arguments and returning the process exit code.
"""
