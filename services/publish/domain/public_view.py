"""What may appear in public: a whitelist projection plus a leak check for tests.

Anything not named in ``PublicEntry`` stays internal. Free text the applicant wrote (summary,
evidence titles) is also scrubbed of phone numbers, e-mails and ID-card numbers, because
applicants do paste contact details into descriptions.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from .selection import SelectionEntry

REDACTED = "[已隐去]"

_PII_PATTERNS = [
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail
    re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"),  # resident ID / individual credit number
    re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)"),  # mobile
    re.compile(r"(?<!\d)0\d{2,3}[\s—–-]{0,2}\d{7,8}(?!\d)"),  # landline with area code
]


def redact_text(text: str) -> str:
    for pattern in _PII_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def is_public_url(url: str) -> bool:
    """Only absolute http(s) links go out (no ``javascript:`` or internal object keys)."""
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class PublicEvidence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    url: str
    kind: str


class PublicEntry(BaseModel):
    """The whitelist. Adding a field here is a decision about what the public sees."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    application_id: str
    rank: int
    project_name: str
    organisation: str
    category: str
    province: str
    unit: str
    score: float | None = None
    summary: str = ""
    evidence: list[PublicEvidence] = []


PUBLIC_FIELDS = tuple(PublicEntry.model_fields)


def public_entry(entry: SelectionEntry, *, publish_scores: bool = False) -> PublicEntry:
    return PublicEntry(
        application_id=entry.application_id,
        rank=entry.rank,
        project_name=entry.project_name,
        organisation=entry.organisation,
        category=entry.category,
        province=entry.province,
        unit=entry.unit,
        score=entry.score if publish_scores else None,
        summary=redact_text(entry.summary),
        evidence=[
            PublicEvidence(title=redact_text(e.title), url=e.url.strip(), kind=e.kind)
            for e in entry.evidence
            if e.public and is_public_url(e.url)
        ],
    )


def public_list(entries: Iterable[SelectionEntry], *, publish_scores: bool = False) -> list[PublicEntry]:
    return [public_entry(e, publish_scores=publish_scores) for e in sorted(entries, key=lambda e: e.rank)]


def public_list_dicts(
    entries: Iterable[SelectionEntry], *, publish_scores: bool = False
) -> list[dict[str, Any]]:
    """JSON-ready; ``score`` is left out entirely when the call does not publish scores."""
    exclude = None if publish_scores else {"score"}
    return [
        p.model_dump(mode="json", exclude=exclude)
        for p in public_list(entries, publish_scores=publish_scores)
    ]


# --- leak check -------------------------------------------------------------------------


class PiiLeak(AssertionError):
    """Raised by :func:`assert_no_pii` with the values found."""


def output_text(obj: Any) -> str:
    """Text of any public output: str, JSON-like data, or the bytes of CSV/HTML/XML/XLSX/PDF."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, BaseModel):
        return obj.model_dump_json()
    if isinstance(obj, (bytes, bytearray)):
        data = bytes(obj)
        if data.startswith(b"%PDF"):
            from pypdf import PdfReader  # test/report tooling only; imported when needed

            reader = PdfReader(io.BytesIO(data))
            return "\n".join(page.extract_text() or "" for page in reader.pages)
        if data.startswith(b"PK"):
            from openpyxl import load_workbook

            book = load_workbook(io.BytesIO(data), read_only=True)
            cells = [
                str(value)
                for sheet in book.worksheets
                for row in sheet.iter_rows(values_only=True)
                for value in row
                if value is not None
            ]
            return "\n".join(book.sheetnames + cells)
        return data.decode("utf-8-sig", errors="replace")
    return json.dumps(obj, ensure_ascii=False, default=str)


def _variants(value: str) -> set[str]:
    compact = re.sub(r"[\s\-]", "", value)
    return {v for v in (value, compact, value.lower(), compact.lower()) if v}


def assert_no_pii(obj: Any, pii_values: Sequence[str]) -> None:
    """Fail when any sensitive value (or its spacing/hyphen-free form) occurs in ``obj``."""
    text = output_text(obj)
    haystacks = {text, text.lower(), re.sub(r"[\s\-]", "", text).lower()}
    found = sorted(value for value in pii_values if any(v in h for v in _variants(value) for h in haystacks))
    if found:
        raise PiiLeak(f"personal data found in public output: {found}")
