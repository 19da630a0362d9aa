"""OUT/review-desk.html: the class page's way into the running desk.

The desk's address changes on every start (a free port, a fresh token), so the
class page, rendered when the class was graded, links to this file instead, and
`dlgrade review` points it at the current address while it runs. The file is
the owner's alone (0600): the token in it opens the desk, and whoever can read
OUT can already change its grades, so it gives no one anything new.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dlgrade.data.atomic import atomic_output

LINK_FILE = "review-desk.html"

_RUNNING = """<!doctype html>
<meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0; url={url}">
<title>Review desk</title>
<p>Opening the review desk: <a href="{url}" rel="noreferrer">{url}</a></p>
"""

_STOPPED = """<!doctype html>
<meta charset="utf-8"><title>Review desk</title>
<p>The review desk is not running. Start it with <code>dlgrade review {out}</code>,
then reload this page (or open the address the command prints).</p>
"""


def _write(path: Path, text: str) -> None:
    with atomic_output(path, mode=0o600) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextmanager
def desk_link(out: Path, url: str) -> Iterator[Path]:
    """While the block runs, OUT/review-desk.html opens `url`; afterwards it says how to start the desk."""
    path = out / LINK_FILE
    _write(path, _RUNNING.format(url=html.escape(url, quote=True)))
    try:
        yield path
    finally:
        _write(path, _STOPPED.format(out=html.escape(str(out))))
