"""Character-level clean-up shared by names and narratives.

Applicants paste text from Word, WeChat articles and Hong Kong / Taiwan sources, so the same
words arrive in full-width forms, traditional characters and with assorted punctuation.
Everything that compares text first goes through ``fold``.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from opencc import OpenCC

_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
# \w is letters, digits, marks and '_'; the underscore is punctuation for us.
_NON_WORD_RE = re.compile(r"[\W_]+")


@functools.lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


@functools.lru_cache(maxsize=1)
def _traditional_chars() -> frozenset[str]:
    """Characters that opencc changes on their own.

    The pure-Python converter costs ~3 ms per 1000 characters; almost every submission is
    already simplified, so we convert only text that holds at least one of these.
    """
    cc = _t2s()
    chars = [chr(cp) for lo, hi in _CJK_RANGES for cp in range(lo, hi + 1)]
    # One conversion of all characters separated by newlines keeps phrases from forming.
    converted = cc.convert("\n".join(chars)).split("\n")
    return frozenset(c for c, s in zip(chars, converted, strict=True) if c != s)


def to_simplified(text: str) -> str:
    """Traditional -> simplified Chinese (opencc t2s), skipped when nothing is traditional."""
    if _traditional_chars().isdisjoint(text):
        return text
    return _t2s().convert(text)


def to_halfwidth(text: str) -> str:
    """Full-width letters, digits and ASCII punctuation -> half-width (NFKC)."""
    if unicodedata.is_normalized("NFKC", text):  # quick check, ~100x cheaper than normalising
        return text
    return unicodedata.normalize("NFKC", text)


def fold(text: str) -> str:
    """Half-width, simplified, lower case: the common first step of every comparison."""
    return to_simplified(to_halfwidth(text)).lower()


def is_word_char(ch: str) -> bool:
    """Letters (incl. CJK) and digits count; punctuation, symbols and spaces do not."""
    return unicodedata.category(ch)[0] in ("L", "N")


def strip_non_word(text: str) -> str:
    """Keep letters (incl. CJK) and digits only."""
    return _NON_WORD_RE.sub("", text)
