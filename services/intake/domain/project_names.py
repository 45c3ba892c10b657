"""Project-name normalisation for the "one organisation, one name, one call" refusal
(每个项目限申报一次): two names that differ only in width, spacing, punctuation, book-title
marks, letter case, traditional/simplified characters or a trailing 项目 are the same project."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from opencc import OpenCC

_SUFFIX = "项目"


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


def _kept(ch: str) -> bool:
    # Drop punctuation (P*), symbols (S*), separators (Z*) and control/format characters (C*).
    return unicodedata.category(ch)[0] not in "PSZC"


def normalise_project_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)  # full-width letters/digits/spaces -> half-width
    text = _t2s().convert(text)
    text = "".join(ch for ch in text if _kept(ch)).casefold()
    while text.endswith(_SUFFIX) and len(text) > len(_SUFFIX):
        text = text[: -len(_SUFFIX)]
    return text
