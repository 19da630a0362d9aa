"""The review desk's web app (Starlette): pages, the token guard, the save endpoint.

Every request must carry the token printed with the URL (`?token=...`), so another
user of the machine, or a web page in the TA's browser, cannot read or write grades.
Student text is rendered as markdown without HTML (dlgrade.review.markdown) in
autoescaping templates, under a Content-Security-Policy that only lets the page's own
script (by nonce) run and loads no image but the inline figures.
"""

from __future__ import annotations

import math
import secrets
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from dlgrade.grading.manual import ManualScoreError
from dlgrade.records import REVIEW_KEY
from dlgrade.review.desk import (
    Decision,
    Desk,
    StaleDecision,
    answers,
    groups,
    next_pending,
    progress,
    rubric,
)
from dlgrade.review.markdown import render_markdown
from dlgrade.text import readable
from reports.render import template_environment
from reports.views import detail_view

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> jinja2.Environment:
    env = template_environment(TEMPLATES)
    env.filters["q"] = url_key
    env.filters["markdown"] = render_markdown
    # The figures, plots and values the report shows; the TA's own entry is shown apart.
    env.filters["details"] = lambda details: detail_view(
        {k: v for k, v in details.items() if k != REVIEW_KEY}
    )
    return env


def create_app(desk: Desk, token: str) -> ASGIApp:
    """The desk's app; every route answers 403 unless `?token=` matches `token`."""

    def page(template: str, status: int = 200, **context: object) -> HTMLResponse:
        nonce = secrets.token_urlsafe(12)
        text = environment().get_template(template).render(token=token, nonce=nonce, **context)
        text = readable(text)  # a student folder name that is not UTF-8 is shown as \xNN
        policy = (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
            "img-src data:; form-action 'self'; base-uri 'none'"
        )
        # No Referer: the URL carries the token.
        headers = {"Content-Security-Policy": policy, "Referrer-Policy": "no-referrer"}
        return HTMLResponse(text, status, headers=headers)

    def allowed(request: Request) -> bool:
        given = request.query_params.get("token", "")
        return secrets.compare_digest(given.encode(), token.encode())

    # Reading and writing OUT blocks, so pages are plain functions (Starlette runs them in
    # its thread pool) and a save hands its work to that pool; Desk's lock orders saves.
    def index(request: Request) -> Response:
        return page("index.html.j2", parts=progress(desk.records()))

    def part_page(request: Request) -> Response:
        part = request.path_params["part"]
        found = answers(desk.records(), part)
        if not found:
            return PlainTextResponse(f"no part {part!r} on the desk", 404)
        names = [a.student for a in found]
        student = _query(request, "student") or names[0]
        at = names.index(student) if student in names else 0
        answer, group = found[at], groups(found)[names[at]]
        # After a save: the next answer still awaiting a TA, else simply the next one.
        later = [a for a in found[at + 1 :] if a.student not in group]
        later = [a.student for a in later if not a.done] or [a.student for a in later]
        return page(
            "part.html.j2",
            part=part,
            answers=found,
            at=at,
            answer=answer,
            group=[found[names.index(name)] for name in group[1:]],
            after=later[0] if later else "",
            rubric=rubric(answer.assignment, part),
        )

    async def save(request: Request) -> Response:
        part, student = request.path_params["part"], _query(request, "student") or ""
        fields = parse_qs((await request.body()).decode("latin-1"), errors="surrogateescape")
        form = {k: v[-1] for k, v in fields.items()}
        try:
            decision = _decision(part, student, form, fields)
            await run_in_threadpool(desk.apply, decision)
        except StaleDecision as stale:
            return page("conflict.html.j2", 409, part=part, answer=stale.current, form=form)
        except (ManualScoreError, ValueError, KeyError) as err:
            return PlainTextResponse(f"not saved: {err}", 400)
        after = await run_in_threadpool(lambda: next_pending(desk.records(), part, student))
        after = after or unquote(form.get("next", ""), errors="surrogateescape")
        return RedirectResponse(_next_url(token, part, after or student), 303)

    async def guard(scope: Scope, receive: Receive, send: Send) -> None:  # the token check
        if scope["type"] == "http" and not allowed(Request(scope)):
            await PlainTextResponse("forbidden: open the URL with its token", 403)(
                scope, receive, send
            )
            return
        await app(scope, receive, send)

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/part/{part}", part_page, methods=["GET"]),
            Route("/part/{part}", save, methods=["POST"]),
        ]
    )
    return guard


def url_key(text: object) -> str:
    """`text` for a URL or a form field, ASCII; folder names that are not UTF-8 survive
    (their surrogate escapes become %XX of the original bytes)."""
    return quote(str(text), safe="", errors="surrogateescape")


def _query(request: Request, name: str) -> str | None:
    # Starlette's own parsing would replace the bytes of a non-UTF-8 name; this keeps them.
    query = request.scope["query_string"].decode("latin-1")
    values = parse_qs(query, errors="surrogateescape").get(name)
    return values[-1] if values else None


def _decision(part: str, student: str, form: dict, fields: dict) -> Decision:
    """The decision a posted form states: points (empty: the rubric items' sum), comment,
    rubric labels, and the group members checked (`member` = url key, space, version)."""
    text = form.get("points", "").strip()
    points = float(text) if text else None
    if points is not None and not math.isfinite(points):
        raise ManualScoreError(f"points must be a number, got {text!r}")
    versions = {student: form["version"]}
    for member in fields.get("member", []):
        name, _, version = member.rpartition(" ")
        versions[unquote(name, errors="surrogateescape")] = version
    labels = tuple(fields.get("rubric", []))
    return Decision(part, versions, points, form.get("comment", "").strip(), labels)


def _next_url(token: str, part: str, student: str) -> str:
    # After a save the desk moves on to the next student (the form says who that is).
    return f"/part/{url_key(part)}?token={url_key(token)}&student={url_key(student)}"
