"""Experts (专家) as the assignment and conflict rules see them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Expert:
    """An expert in a call's pool.

    ``unit_codes``: recommending units (推荐单位) the expert belongs to or works for.
    ``declared_application_ids`` / ``declared_organisations`` / ``declared_credit_codes``: conflicts
    the expert declared when joining the pool (HotCRP's "collaborators" list).
    ``max_load``: the most projects this expert accepts (OpenReview's per-reviewer quota);
    ``None`` means no personal limit.
    """

    id: str
    name: str
    organisation: str = ""
    credit_code: str | None = None
    province: str | None = None
    expertise: frozenset[str] = frozenset()
    unit_codes: frozenset[str] = frozenset()
    declared_application_ids: frozenset[str] = frozenset()
    declared_organisations: frozenset[str] = frozenset()
    declared_credit_codes: frozenset[str] = frozenset()
    max_load: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Expert:
        def fs(key: str) -> frozenset[str]:
            value: Iterable[str] = data.get(key) or ()
            return frozenset(value)

        return cls(
            id=str(data["id"]),
            name=data.get("name", ""),
            organisation=data.get("organisation", "") or "",
            credit_code=data.get("credit_code"),
            province=data.get("province"),
            expertise=fs("expertise"),
            unit_codes=fs("unit_codes"),
            declared_application_ids=fs("declared_application_ids"),
            declared_organisations=fs("declared_organisations"),
            declared_credit_codes=fs("declared_credit_codes"),
            max_load=data.get("max_load"),
        )
