"""Blind review view (匿名评审): what an expert sees when the call hides applicant identity.

Identity fields are removed, and the identifying strings they held are replaced wherever they
appear verbatim in the remaining text (project name, narrative, media-report titles...):
the organisation's name becomes 【申报单位】, and so on. Only verbatim occurrences are found;
abbreviations or nicknames of the organisation are not (the expert guide asks applicants not
to name themselves in blind calls). Evidence ids and media-report links are kept because the
expert must be able to check them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

ORG_PLACEHOLDER = "【申报单位】"
UNIT_PLACEHOLDER = "【推荐单位】"
CONTACT_PLACEHOLDER = "【联系人】"
ACCOUNT_PLACEHOLDER = "【平台账号】"
APPROVAL_PLACEHOLDER = "【批准文号】"

# Keys removed from ``applicant`` and from the top level.
APPLICANT_IDENTITY = frozenset({
    "name", "credit_code", "address", "contact", "contact_name", "contact_person", "contact_phone",
    "phone", "mobile", "email", "legal_representative", "website",
})
TOP_LEVEL_IDENTITY = frozenset({
    "unit_code", "unit_name", "recommending_unit", "recommending_unit_name", "unit_opinion",
    "approval_document_no", "approval_document_nos", "approval_document_numbers", "approval_documents",
    "filing_number", "platform_accounts", "account_names", "contact", "contact_name", "contact_phone",
    "address", "applicant_name", "credit_code",
})


def _strings(value: Any) -> Iterable[str]:
    """Every string inside a value (accounts may be strings or ``{platform, account_name}``)."""
    if isinstance(value, str):
        if value.strip():
            yield value.strip()
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if k not in ("platform", "type", "kind"):
                yield from _strings(v)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _strings(v)


def _identity_strings(application: Mapping[str, Any]) -> list[tuple[str, str]]:
    applicant = application.get("applicant") or {}
    pairs: list[tuple[str, str]] = []
    for key, placeholder in (("name", ORG_PLACEHOLDER), ("contact", CONTACT_PLACEHOLDER),
                             ("contact_name", CONTACT_PLACEHOLDER), ("contact_person", CONTACT_PLACEHOLDER),
                             ("legal_representative", CONTACT_PLACEHOLDER), ("address", "【地址】")):
        pairs += [(s, placeholder) for s in _strings(applicant.get(key))]
    for key, placeholder in (("applicant_name", ORG_PLACEHOLDER), ("unit_name", UNIT_PLACEHOLDER),
                             ("recommending_unit_name", UNIT_PLACEHOLDER), ("recommending_unit", UNIT_PLACEHOLDER),
                             ("platform_accounts", ACCOUNT_PLACEHOLDER), ("account_names", ACCOUNT_PLACEHOLDER),
                             ("approval_document_no", APPROVAL_PLACEHOLDER),
                             ("approval_document_nos", APPROVAL_PLACEHOLDER),
                             ("approval_document_numbers", APPROVAL_PLACEHOLDER),
                             ("filing_number", APPROVAL_PLACEHOLDER), ("contact_name", CONTACT_PLACEHOLDER)):
        pairs += [(s, placeholder) for s in _strings(application.get(key))]
    # Codes (credit codes, unit codes, phone numbers) are also scrubbed if quoted in the text.
    for s in _strings([applicant.get("credit_code"), applicant.get("phone"), applicant.get("contact_phone"),
                       applicant.get("mobile"), applicant.get("email"), application.get("contact_phone")]):
        pairs.append((s, "【已隐去】"))
    # Longest first, so "某某基金会北京分会" is replaced before "某某基金会".
    unique = {s: p for s, p in pairs if len(s) >= 2}
    return sorted(unique.items(), key=lambda sp: (-len(sp[0]), sp[0]))


def _scrub(value: Any, replacements: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for needle, placeholder in replacements:
            if needle in value:
                value = value.replace(needle, placeholder)
        return value
    if isinstance(value, Mapping):
        return {k: _scrub(v, replacements) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, replacements) for v in value]
    return value


def blind_view(application: Mapping[str, Any], blind: bool) -> dict[str, Any]:
    """A copy of the application for an expert; identity hidden when ``blind`` is true."""
    if not blind:
        return copy.deepcopy(dict(application))
    replacements = _identity_strings(application)
    view = {k: v for k, v in application.items() if k not in TOP_LEVEL_IDENTITY}
    if isinstance(application.get("applicant"), Mapping):
        view["applicant"] = {k: v for k, v in application["applicant"].items() if k not in APPLICANT_IDENTITY}
    scrubbed = _scrub(view, replacements)
    scrubbed["blind"] = True
    return scrubbed
