"""How the call's character limit (总体字数) is counted.

Rule: normalise to NFC, then count Unicode code points, leaving out whitespace (spaces, tabs,
line breaks, the ideographic space U+3000) and invisible format characters (category Cf, e.g.
zero-width spaces, BOMs). Punctuation, digits and Latin letters count one each, like a Chinese
character. So layout never costs characters, and pasting from Word gives the same count as typing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

# for str patterns, \s is exactly str.isspace()
_WHITESPACE = re.compile(r"\s+")


def count_chars(text: str | None) -> int:
    if not text:
        return 0
    visible = _WHITESPACE.sub("", unicodedata.normalize("NFC", text))
    if visible.isprintable():  # the usual case: no format (Cf) character can be left
        return len(visible)
    return sum(1 for ch in visible if unicodedata.category(ch) != "Cf")


def count_total(texts: Mapping[str, str]) -> tuple[int, dict[str, int]]:
    """Total count over several fields, and each field's own count."""
    per_field = {name: count_chars(text) for name, text in texts.items()}
    return sum(per_field.values()), per_field
