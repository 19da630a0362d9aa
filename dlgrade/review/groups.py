"""Identical or near-identical answers, grouped so one decision can apply to all of them.

Texts are compared after normalising (case, whitespace, punctuation, markdown marks),
then by difflib's ratio: two answers whose normalised texts match at `THRESHOLD` or
more share a group. A group is grown from its first member, in the desk's order, so
the result does not depend on how many other answers there are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from difflib import SequenceMatcher

THRESHOLD = 0.9
_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Lower case, accents folded, every run of punctuation or space one space."""
    folded = unicodedata.normalize("NFKD", text).casefold()
    return _NOT_WORD.sub(" ", folded).strip()


def similar(a: str, b: str, threshold: float = THRESHOLD) -> bool:
    if a == b:
        return True
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    # The cheap upper bounds first: most pairs of different answers stop here.
    return (
        matcher.real_quick_ratio() >= threshold
        and matcher.quick_ratio() >= threshold
        and (matcher.ratio() >= threshold)
    )


def group_texts(texts: Sequence[str], threshold: float = THRESHOLD) -> list[list[int]]:
    """Indices of `texts` in groups (each in order, groups by first member); an empty
    text stays alone: there is nothing to compare, and its figures may differ."""
    keys = [normalise(text) for text in texts]
    leader_of: list[int | None] = [None] * len(texts)
    groups: list[list[int]] = []
    for index, key in enumerate(keys):
        if leader_of[index] is not None:
            continue
        members = [index]
        if key:
            for other in range(index + 1, len(texts)):
                if (
                    leader_of[other] is None
                    and keys[other]
                    and similar(key, keys[other], threshold)
                ):
                    leader_of[other] = index
                    members.append(other)
        groups.append(members)
    return groups
