"""Normalising organisation names and credit codes so that trivial spelling differences
(full-width letters, spaces, brackets, punctuation) do not hide a conflict of interest."""

from __future__ import annotations

import unicodedata


def normalise_org_name(name: str | None) -> str:
    """NFKC (full-width to half-width), case-folded, without whitespace or punctuation.

    ``"北京 某某（公益）基金会"`` and ``"北京某某(公益)基金会"`` normalise alike. Legal suffixes such
    as 有限公司 are kept: dropping them would make different bodies collide.
    """
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in text if not ch.isspace() and not unicodedata.category(ch).startswith("P"))


def normalise_credit_code(code: str | None) -> str:
    """Unified social credit codes (统一社会信用代码) are 18 upper-case alphanumerics."""
    if not code:
        return ""
    return "".join(ch for ch in unicodedata.normalize("NFKC", code).upper() if ch.isalnum())
