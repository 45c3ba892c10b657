"""JWT bearer tokens: roles and scope claims.

Roles: applicant (scope: org = the applicant organisation's id), unit (scope: unit = recommending
unit code), expert (scope: expert = expert id), staff. The algorithm is pinned (HS256), expiry,
audience and issuer are always checked, and the key id (kid) names the secret so keys can rotate.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

import jwt

from gongyi.config import Settings
from gongyi.errors import Forbidden, Unauthorized

ROLES = ("applicant", "unit", "expert", "staff")
ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    sub: str
    role: str
    name: str = ""
    org: str | None = None
    unit: str | None = None
    expert: str | None = None
    claims: dict = field(default_factory=dict)

    @property
    def may_see_personal_data(self) -> bool:
        return self.role == "staff" and self.claims.get("pii") is True

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(
                "forbidden_role",
                f"当前角色（{self.role}）无权执行此操作",
                f"Role {self.role!r} may not do this",
                {"allowed_roles": list(roles)},
            )


def issue_token(
    settings: Settings,
    role: str,
    sub: str | None = None,
    *,
    name: str = "",
    org: str | None = None,
    unit: str | None = None,
    expert: str | None = None,
    ttl: int | None = None,
    pii: bool = False,
) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    now = int(time.time())
    claims = {
        "sub": sub or f"{role}-{uuid.uuid4().hex[:8]}",
        "role": role,
        "name": name,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + (ttl or settings.jwt_ttl_seconds),
        "jti": uuid.uuid4().hex,
    }
    for key, value in (("org", org), ("unit", unit), ("expert", expert)):
        if value:
            claims[key] = value
    if pii:
        claims["pii"] = True  # this staff member may see personal data (contacts)
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM, headers={"kid": settings.jwt_key_id})


def _keys(settings: Settings) -> dict[str, str]:
    # the current key; previous keys (for rotation) are configured as GONGYI_JWT_PREVIOUS="kid:secret,..."
    keys = {settings.jwt_key_id: settings.jwt_secret}
    for pair in filter(None, settings.jwt_previous.split(",")):
        kid, _, secret = pair.partition(":")
        if kid and secret:
            keys.setdefault(kid, secret)
    return keys


# Tokens already verified, with their claims. A client sends the same token on every call until it
# expires, and a full PyJWT decode costs about 0.2 ms (its base64 checks are pure Python), a tenth of
# a fast search. The key holds everything the verdict depends on (the token and the keys, issuer and
# audience it was checked against), so a rotated or removed key is never served from here; the
# expiry is checked again on every use. Refused tokens are never stored.
_VERIFIED: OrderedDict[tuple[str, ...], dict] = OrderedDict()
_VERIFIED_MAX = 4096
_VERIFIED_LOCK = threading.Lock()


def _verified_key(settings: Settings, token: str) -> tuple[str, ...]:
    return (token, settings.jwt_key_id, settings.jwt_secret, settings.jwt_previous,
            settings.jwt_issuer, settings.jwt_audience)


def _decode(settings: Settings, token: str) -> dict:
    try:
        header = jwt.get_unverified_header(token)
        secret = _keys(settings).get(header.get("kid", ""))
        if secret is None:
            raise jwt.InvalidTokenError("unknown key id")
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token_expired", "登录凭证已过期，请重新登录", "The token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("invalid_token", "登录凭证无效", f"The token is not valid: {exc}") from exc
    if claims.get("role") not in ROLES:
        raise Unauthorized("invalid_token", "登录凭证无效", "The token carries no known role")
    return claims


def verify_token(settings: Settings, token: str) -> Principal:
    key = _verified_key(settings, token)
    with _VERIFIED_LOCK:
        claims = _VERIFIED.get(key)
        if claims is not None:
            _VERIFIED.move_to_end(key)
    if claims is None:
        claims = _decode(settings, token)
        with _VERIFIED_LOCK:
            _VERIFIED[key] = claims
            if len(_VERIFIED) > _VERIFIED_MAX:
                _VERIFIED.popitem(last=False)
    elif claims["exp"] <= time.time():  # the same rule as PyJWT's (no leeway)
        with _VERIFIED_LOCK:
            _VERIFIED.pop(key, None)
        raise Unauthorized("token_expired", "登录凭证已过期，请重新登录", "The token has expired")
    return Principal(
        sub=claims["sub"],
        role=claims["role"],
        name=claims.get("name", ""),
        org=claims.get("org"),
        unit=claims.get("unit"),
        expert=claims.get("expert"),
        claims=dict(claims),  # a copy: a caller cannot change what the next request sees
    )


def principal_from_header(settings: Settings, authorization: str | None) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("missing_token", "请先登录（缺少 Bearer 令牌）", "A Bearer token is required")
    return verify_token(settings, authorization.split(" ", 1)[1].strip())
