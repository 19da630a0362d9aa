"""`dlgrade data fetch | status | provision`: the dataset cache from the shell."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dlgrade.data import (
    DATASET_NAMES,
    DataError,
    DatasetStatus,
    FetchResult,
    fetch,
    provision,
    status,
)
from dlgrade.invocation import program_name


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `data` and its sub-commands to the `dlgrade` parser."""
    parser = subparsers.add_parser("data", help="fetch, verify and provision MNIST/FashionMNIST")
    commands = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    fetch_cmd = commands.add_parser("fetch", help="download the datasets into the cache (once)")
    _add_names(fetch_cmd)
    fetch_cmd.add_argument("--force", action="store_true", help="refetch even a valid cache")
    fetch_cmd.add_argument("--no-progress", action="store_true", help="no progress bars")
    fetch_cmd.set_defaults(func=_run_fetch)

    status_cmd = commands.add_parser("status", help="verify the cache against known facts")
    _add_names(status_cmd)
    status_cmd.set_defaults(func=_run_status)

    provision_cmd = commands.add_parser(
        "provision", help="lay out files for torchvision and Keras under ROOT"
    )
    provision_cmd.add_argument("root", type=Path, metavar="ROOT")
    provision_cmd.add_argument(
        "--train-limit", type=int, metavar="N", help="first N training samples"
    )
    provision_cmd.add_argument("--test-limit", type=int, metavar="N", help="first N test samples")
    _add_data_dir(provision_cmd)
    provision_cmd.set_defaults(func=_run_provision)


def _add_names(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "names",
        nargs="*",
        type=_dataset_name,
        metavar="NAME",
        help=f"datasets ({', '.join(DATASET_NAMES)}); default: all",
    )
    _add_data_dir(parser)


def _dataset_name(text: str) -> str:
    if text not in DATASET_NAMES:
        raise argparse.ArgumentTypeError(
            f"unknown dataset {text!r}; choose from {', '.join(DATASET_NAMES)}"
        )
    return text


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="cache directory (default: $DLGRADE_DATA, else ~/.cache/dlgrade)",
    )


def _run_fetch(args: argparse.Namespace) -> int:
    results = fetch(
        args.names or DATASET_NAMES, args.data_dir, force=args.force, progress=not args.no_progress
    )
    for result in results:
        print(_describe_fetch(result))
    return 0 if all(r.ok for r in results) else 1


def _describe_fetch(result: FetchResult) -> str:
    if not result.ok:
        return f"{result.name}: FAILED\n{result.error}"
    if not result.fetched:
        return f"{result.name}: already cached and valid at {result.path}"
    return (
        f"{result.name}: fetched from {result.source} into {result.path} ({result.seconds:.1f} s)"
    )


def _run_status(args: argparse.Namespace) -> int:
    reports = status(args.names or DATASET_NAMES, args.data_dir, program_name())
    print("\n\n".join(format_status(report) for report in reports))
    return 0 if all(r.ok for r in reports) else 1


def format_status(report: DatasetStatus) -> str:
    """The human-readable block `dlgrade data status` prints for one dataset."""
    verdict = "OK" if report.ok else ("MISSING" if not report.found else "FAILED")
    lines = [f"{report.name}: {verdict}", f"  location: {report.path}"]
    if report.error:
        lines.append(f"  problem: {report.error}")
    if report.shapes:
        lines.append("  shapes: " + ", ".join(f"{k} {v}" for k, v in report.shapes.items()))
        lines.append("  train labels per class: " + " ".join(map(str, report.train_counts)))
        lines.append("  test labels per class:  " + " ".join(map(str, report.test_counts)))
    for check in report.checks:
        mark = "ok  " if check.ok else "FAIL"
        detail = check.found if check.ok else f"expected {check.expected}, found {check.found}"
        lines.append(f"  [{mark}] {check.name}: {detail}")
    if report.fix:
        lines.append(f"  fix: {report.fix}")
    return "\n".join(lines)


def _run_provision(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    try:
        placed = provision(args.root, args.data_dir, args.train_limit, args.test_limit)
    except (DataError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for path in placed:
        print(path)
    print(
        f"provisioned {len(placed)} files in {time.perf_counter() - start:.3f} s", file=sys.stderr
    )
    return 0
