"""Student keys: short, readable, unique folder names for OUT/<key>."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence


def slug(text: str) -> str:
    """'Ada Lovelace' -> 'ada-lovelace'; '' when nothing usable is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def unique_keys(wanted: Sequence[tuple[str, str]]) -> list[str]:
    """Keys for (preferred, tie-breaker) pairs: the preferred key, or `key-tiebreaker` when shared.

    The choice depends only on the input, so re-reading the same export gives
    the same keys (which resumed grading relies on).
    """
    counts: dict[str, int] = {}
    for preferred, _ in wanted:
        counts[preferred] = counts.get(preferred, 0) + 1
    keys = [
        preferred if counts[preferred] == 1 and preferred else f"{preferred}-{tie}".strip("-")
        for preferred, tie in wanted
    ]
    if len(set(keys)) != len(keys):  # tie-breakers shared too: fall back to positions
        keys = [f"{key}-{index}" for index, key in enumerate(keys, start=1)]
    return keys
