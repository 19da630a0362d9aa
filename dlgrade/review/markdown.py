"""A student's text as markdown, rendered so that nothing in it runs or loads.

markdown-it-py with raw HTML off: tags in the text come out as text. Links, images and
autolinks are off too: a click must not take the TA (and the desk's token, in the
page's URL) to a site the student chose, and an image would load from one.
"""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from markupsafe import Markup


@cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    return parser.enable("table").enable("strikethrough").disable(["link", "image", "autolink"])


def render_markdown(text: str) -> Markup:
    """Safe HTML for `text` (every tag and entity in it escaped by the parser)."""
    return Markup(_parser().render(text))
