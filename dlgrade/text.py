"""Names for people to read: file names that are not UTF-8, shown rather than crashing."""

from __future__ import annotations


def readable(text: str) -> str:
    """`text` for a page, a table or a plot: bytes of a name that was not UTF-8 shown as `\\xNN`.

    Linux hands such names to Python as surrogate escapes, which UTF-8 cannot
    encode; the JSON records keep them losslessly (dlgrade.grading.outputs).
    """
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that no byte stands behind
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
