"""The figures a narrative reports, as a set to compare.

Rewording changes words but not facts: a rewritten or abbreviated copy of an application still
reports the same 3.2万 beneficiaries, 126 volunteers and 580万元 raised. Conversely, two
different projects written from one template (a programme run in two counties, a theme
copied between provinces) share most words but not their figures. So the overlap of figures
separates the two cases that text similarity alone cannot.

A figure is a number >= 10 with its multiplier applied (3.2万 -> 32000, 1.5亿 -> 150000000,
12,800 -> 12800). Years and dates (2019年, 2023-01-01) are left out: every project of a call
mentions the same few years. Small numbers (三个方面, 5所学校) and round numbers with one
significant digit (100, 2000, 5万) are too common to identify a project.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from .chars import to_halfwidth

_NUM_RE = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(万亿|亿|万|千)?")
_MULT = {None: 1, "千": 1_000, "万": 10_000, "亿": 100_000_000, "万亿": 10**12}
_DATE_AFTER = re.compile(r"^\s*(?:年|[-/.]\d{1,2}[-/.]\d{1,2}|[-/.]\d{1,2}\s*月)")
_MIN_VALUE = 10


def extract_facts(text: str | None) -> list[str]:
    """Sorted distinct figures (as canonical decimal strings) reported in ``text``."""
    if not text:
        return []
    norm = to_halfwidth(text)
    found: set[str] = set()
    for m in _NUM_RE.finditer(norm):
        digits, mult = m.group(1), m.group(2)
        after = norm[m.end(1) : m.end(1) + 8]
        if mult is None and _DATE_AFTER.match(after):
            continue
        # 2023-2024 and "于2019启动" also read as years.
        if mult is None and "." not in digits and "," not in digits and len(digits) == 4:
            if 1949 <= int(digits) <= 2100:
                continue
        try:
            value = Decimal(digits.replace(",", "")) * _MULT[mult]
        except InvalidOperation:
            continue
        if value < _MIN_VALUE or _significant_digits(value) < 2:
            continue
        found.add(format(value.normalize(), "f"))
    return sorted(found)


def _significant_digits(value: Decimal) -> int:
    return len(value.normalize().as_tuple().digits)


def fact_overlap(a: Iterable[str], b: Iterable[str]) -> float:
    """Jaccard of two figure sets (0 when either is empty)."""
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)
