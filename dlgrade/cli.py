"""The `dlgrade` command line: a thin argparse shell over the sub-command modules."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import dlgrade.commands
from dlgrade import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dlgrade",
        description="Grade and self-check deep-learning homework submissions.",
    )
    parser.add_argument("--version", action="version", version=f"dlgrade {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(dlgrade.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"dlgrade.commands.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
