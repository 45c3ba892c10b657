"""The whole material's character count as the call's rules count it (intake's text_count rule:
NFC, whitespace and invisible format characters left out), so the page shows the number intake
will check. The page's script counts the same way as the applicant types."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

_WHITESPACE = re.compile(r"\s+")


def count_chars(text: str | None) -> int:
    if not text:
        return 0
    visible = _WHITESPACE.sub("", unicodedata.normalize("NFC", text))
    return sum(1 for ch in visible if unicodedata.category(ch) != "Cf")


def count_material(form: Mapping[str, Any], fields: Iterable[str]) -> int:
    return sum(count_chars(form.get(name)) for name in fields if isinstance(form.get(name), str))
