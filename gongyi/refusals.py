"""A service's refusals in one catalogue: each code with its HTTP class and its Chinese and English
text, so a refusal reads the same wherever it is raised (services/media/domain/refusals.py was the
first; services/review/domain/refusals.py uses this class).

A key is the code, or ``code/variant`` where one code is worded for another reader (an expert is
told a project "is not assigned to you", staff that it does not exist). Texts may name values:
``"No project {application_id!r}"`` is filled from the details and any extra words given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from gongyi.errors import DomainError, Issue


class Catalogue:
    def __init__(self, entries: Mapping[str, tuple[type[DomainError], str, str]]) -> None:
        self.entries = dict(entries)

    def _text(self, key: str, details: Mapping[str, Any], words: Mapping[str, Any]) -> tuple[str, str, str]:
        _, zh, en = self.entries[key]
        values = {**details, **words}
        return key.split("/", 1)[0], zh.format(**values), en.format(**values)

    def refusal(self, key: str, details: Mapping[str, Any] | None = None, **words: Any) -> DomainError:
        """Build (not raise) the exception for ``key``; for ``raise ... from exc``."""
        code, zh, en = self._text(key, details or {}, words)
        return self.entries[key][0](code, zh, en, dict(details or {}))

    def refuse(self, key: str, details: Mapping[str, Any] | None = None, **words: Any) -> NoReturn:
        raise self.refusal(key, details, **words)

    def issue(self, key: str, path: str = "", details: Mapping[str, Any] | None = None, **words: Any) -> Issue:
        """One finding of an ``InvalidInput`` (its class in the catalogue is ``InvalidInput``)."""
        code, zh, en = self._text(key, details or {}, words)
        return Issue(code, zh, en, path, dict(details or {}))

    def codes(self) -> set[str]:
        return {key.split("/", 1)[0] for key in self.entries}
