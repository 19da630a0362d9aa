"""`dlgrade review OUT`: grade the manual parts question by question in a local browser page."""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
from pathlib import Path

HOST = "127.0.0.1"  # never another interface: the page reads and writes grades


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "review",
        help="grade the parts a TA grades, question by question, in a local web page",
        description="Serves the review desk on 127.0.0.1 and prints its URL, which carries a "
        "random token; requests without it are refused. Each decision is saved as "
        "`dlgrade merge-manual` saves it, and grades.csv and the reports are regenerated.",
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="output folder of `dlgrade grade`")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--ta", default="", help="your name, recorded with each decision")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not (args.out / "grades.csv").is_file():
        print(f"error: {args.out} is not an output folder of `dlgrade grade`", file=sys.stderr)
        return 2
    # Imported here: the web stack is only needed by this command.
    import socket

    import uvicorn

    from dlgrade.review.app import create_app
    from dlgrade.review.desk import Desk
    from dlgrade.review.link import desk_link

    token = secrets.token_urlsafe(24)
    sock = socket.socket()
    try:
        sock.bind((HOST, args.port))  # bound and listening first: the printed URL answers at once
        sock.listen(64)
    except OSError as err:
        sock.close()
        print(f"error: cannot listen on {HOST}:{args.port}: {err.strerror}", file=sys.stderr)
        return 2
    port = sock.getsockname()[1]
    url = f"http://{HOST}:{port}/?token={token}"
    config = uvicorn.Config(create_app(Desk(args.out, args.ta), token), log_level="warning")
    # uvicorn stops on SIGINT/SIGTERM, then raises the signal again under the handler it
    # found: make that an exception for SIGTERM too, so the link is reset on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with desk_link(args.out, url) as link:
            print(f"review desk: {url}", flush=True)
            print(f"(the class page's link opens it too: {link}); stop it with Ctrl-C", flush=True)
            uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        print("review desk stopped", flush=True)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
