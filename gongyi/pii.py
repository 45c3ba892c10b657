"""One masking policy for personal data (个人信息), used by every service and every export.

Personal data here: an application's contact person (``form.contact``: name, title, mobile,
e-mail), an expert's contact, an objector's name and contact. Who sees it in full:

- the person it belongs to (an applicant its own application, an objector nobody else's);
- the recommending unit, for the applications it vets (it must be able to call them);
- organiser staff whose token carries ``pii: true``.

Everyone else (staff without the claim, experts, the public) gets the form without ``contact``
and masked names/contacts in lists, so a leaked export or screen holds nothing to call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

PERSONAL_FORM_KEYS = ("contact",)


class Viewer(Protocol):
    role: str
    claims: dict


def may_see_personal_data(viewer: Viewer | None, *, owner: bool = False, vetting_unit: bool = False) -> bool:
    """Full personal data for the owner, the vetting unit, or staff with the ``pii`` claim."""
    if viewer is None:
        return False
    if owner or vetting_unit:
        return True
    return viewer.role == "staff" and (viewer.claims or {}).get("pii") is True


def redact_form(form: Mapping[str, Any] | None) -> dict[str, Any]:
    """The form without its personal parts (a copy; the stored form is untouched)."""
    return {k: v for k, v in (form or {}).items() if k not in PERSONAL_FORM_KEYS}


def form_for(viewer: Viewer | None, form: Mapping[str, Any] | None, *, owner: bool = False,
             vetting_unit: bool = False) -> dict[str, Any]:
    if may_see_personal_data(viewer, owner=owner, vetting_unit=vetting_unit):
        return dict(form or {})
    return redact_form(form)


def mask(value: str | None) -> str:
    """A name or contact reduced to a recognisable stub: ``张*``, ``138****00``, ``z***@example.org``."""
    if not value:
        return ""
    text = str(value)
    if "@" in text:
        local, _, domain = text.partition("@")
        return f"{local[:1]}***@{domain}"
    digits = sum(c.isdigit() for c in text)
    if digits >= 7:
        return f"{text[:3]}****{text[-2:]}"
    return text[:1] + "*" * max(1, min(len(text) - 1, 3))
