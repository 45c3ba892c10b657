"""Console accounts: who may sign in, with which role and scope, and how their passwords are kept.

The roles and scopes are the API tokens' own (gongyi.http.auth): an applicant account signs in as
``applicant`` with its organisation's credit code, a unit account carries its unit code, an expert
account its expert id. Passwords are argon2id hashes (argon2-cffi's defaults, RFC 9106's second
recommended parameter set); a hash made with older parameters is upgraded at the next sign-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.console.domain.refusals import refuse

ROLES = ("applicant", "unit", "expert", "staff")
ROLE_LABELS = {"applicant": "申报主体", "unit": "推荐单位", "expert": "评审专家", "staff": "组织方工作人员"}
# the console's area of each role: /console/<area>/...; a role enters only its own
AREAS = {"applicant": "applicant", "unit": "unit", "expert": "expert", "staff": "staff"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    role: str
    name: str
    status: str  # pending (e-mail not confirmed / invitation not accepted) | active
    unit_code: str | None = None
    expert_id: str | None = None
    org_code: str | None = None
    org_name: str | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"

    def token_claims(self) -> dict[str, str]:
        """What the API token for this account carries besides its role and subject."""
        claims = {"name": self.name}
        if self.role == "unit" and self.unit_code:
            claims["unit"] = self.unit_code
        if self.role == "expert" and self.expert_id:
            claims["expert"] = self.expert_id
        if self.role == "applicant" and self.org_code:
            claims["org"] = self.org_code
        return claims


def normalise_email(value: str) -> str:
    email = (value or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise refuse("invalid_email")
    return email


def check_new_password(password: str, repeated: str | None = None) -> None:
    if len(password or "") < 10 or password.isdigit():
        raise refuse("weak_password")
    if repeated is not None and password != repeated:
        raise refuse("passwords_differ")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        _hasher.hash(password)  # the same work as a real check: no timing hint that the e-mail is unknown
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def check_invitation(role: str, unit_code: str | None, expert_id: str | None) -> None:
    """Staff invite unit, expert and staff accounts; applicants register themselves."""
    if role not in ("unit", "expert", "staff"):
        raise refuse("invalid_role", role=role)
    if role == "unit" and not unit_code:
        raise refuse("unit_required")
    if role == "expert" and not expert_id:
        raise refuse("expert_required")


def may_enter(role: str, area: str) -> bool:
    return AREAS.get(role) == area
