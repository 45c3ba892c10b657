"""How the call's character limit (总体字数) is counted.

Rule: normalise to NFC, then count Unicode code points, leaving out whitespace (spaces, tabs,
line breaks, the ideographic space U+3000) and invisible format characters (category Cf, e.g.
zero-width spaces, BOMs). Punctuation, digits and Latin letters count one each, like a Chinese
character. So layout never costs characters, and pasting from Word gives the same count as typing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping


def count_chars(text: str | None) -> int:
    if not text:
        return 0
    text = unicodedata.normalize("NFC", text)
    return sum(1 for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def count_total(texts: Mapping[str, str]) -> tuple[int, dict[str, int]]:
    """Total count over several fields, and each field's own count."""
    per_field = {name: count_chars(text) for name, text in texts.items()}
    return sum(per_field.values()), per_field
