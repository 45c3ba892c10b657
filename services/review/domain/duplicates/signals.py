"""Everything duplicate detection needs from one application, computed once and stored.

``compute_signals`` is the only place that reads raw application and evidence dicts; the rest
of the package works on ``ProjectSignals``, which serialises to plain JSON (``to_dict``) for
the review database and the search index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from .chars import fold, strip_non_word
from .evidence import normalise_link, normalise_phash, phash_band_keys
from .facts import extract_facts
from .normalise import (
    name_core,
    normalise_credit_code,
    normalise_org,
    normalise_project_name,
    org_alternatives,
    project_name_alternatives,
)
from .terms import TERMS_SCHEME, tokens
from .text import TEXT_SCHEME, band_keys, minhash_of_normalised

# NAME_SCHEME: how names are normalised and keyed (normalise.py); n2 reads a '+' inside a name as 加
# and keys each name's core (``own_name_cores``).
NAME_SCHEME = "n2"
SIGNALS_VERSION = f"dup-v2/{TEXT_SCHEME}/{TERMS_SCHEME}/{NAME_SCHEME}"

# Field names as the intake form may spell them; the first one present wins.
_ID_KEYS = ("id", "application_id")
_CALL_KEYS = ("call_id",)
_UNIT_KEYS = ("unit_code", "recommending_unit_code", "unit_id")
_CREDIT_KEYS = ("credit_code", "unified_social_credit_code", "org_credit_code")
_ORG_KEYS = ("org_name", "applicant_name", "organisation_name")
_NAME_KEYS = ("project_name", "name", "title")
# Narrative parts of the form, concatenated in this order when ``narrative`` is absent.
# ``implementation_results`` is the application form's own name for the results (a unit's
# spreadsheet exported from the form has it); the service hands the form over as ``narrative``
NARRATIVE_FIELDS = ("narrative", "summary", "background", "approach", "results", "implementation_results", "impact",
                    "innovation")


def _first(d: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for k in keys:
        v = d.get(k)
        if v not in (None, ""):
            return v
    return None


def _narrative(application: Mapping[str, Any]) -> str:
    parts = [application.get(k) for k in NARRATIVE_FIELDS]
    return "\n".join(str(p) for p in parts if p)


@dataclass(frozen=True)
class ProjectSignals:
    """Comparable facts about one application (see docs/duplicates.md for each field)."""

    id: str
    call_id: str | None = None
    unit_code: str | None = None
    credit_code: str | None = None
    org_norm: str = ""
    org_core: str = ""  # org_norm without a leading province
    name_norm: str = ""
    name_alts: list[str] = field(default_factory=list)  # name_norm, then each part of the name field
    org_alts: list[str] = field(default_factory=list)  # org_core, then each organisation named
    minhash: list[int] = field(default_factory=list)
    text_bands: list[str] = field(default_factory=list)
    shingle_count: int = 0
    facts: list[str] = field(default_factory=list)
    phashes: list[str] = field(default_factory=list)
    sha256s: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    # words, entity-like tokens, the name's words and figures with units (terms.py)
    terms: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    name_terms: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    version: str = SIGNALS_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    # Sets of the stored lists, built once per object: one check compares its project with up to
    # 50 candidates, and rebuilding them for every pair was a fifth of the scoring time.
    # (cached_property writes the instance dict directly, so it works on a frozen dataclass.)
    @cached_property
    def term_set(self) -> frozenset[str]:
        return frozenset(self.terms)

    @cached_property
    def entity_set(self) -> frozenset[str]:
        return frozenset(self.entities)

    @cached_property
    def name_term_set(self) -> frozenset[str]:
        return frozenset(self.name_terms)

    @cached_property
    def figure_set(self) -> frozenset[str]:
        return frozenset(self.figures)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProjectSignals:
        known = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in data.items() if k in known}
        for k in ("minhash", "text_bands", "facts", "phashes", "sha256s", "links", "terms", "entities", "name_terms",
                  "figures", "name_alts", "org_alts"):
            kwargs[k] = list(kwargs.get(k) or [])
        return cls(**kwargs)


def compute_signals(application: Mapping[str, Any], evidence: Sequence[Mapping[str, Any]]) -> ProjectSignals:
    """Signals of one application and its evidence items.

    ``application``: id, call_id, unit_code, credit_code, org_name, project_name and the
    narrative (``narrative`` or the parts in ``NARRATIVE_FIELDS``).
    ``evidence``: dicts with any of ``sha256``, ``phash`` (16 hex digits, images and video
    key frames) and ``url`` or ``link`` (media reports).
    """
    app_id = _first(application, _ID_KEYS)
    if app_id is None:
        raise ValueError("application has no id")
    org = _first(application, _ORG_KEYS)
    folded = fold(_narrative(application))
    signature, n_shingles = minhash_of_normalised(strip_non_word(folded))

    phashes: list[str] = []
    sha256s: list[str] = []
    links: list[str] = []
    for item in evidence:
        ph = normalise_phash(item.get("phash"))
        if ph and ph not in phashes:
            phashes.append(ph)
        sha = (item.get("sha256") or "").strip().lower()
        if sha and sha not in sha256s:
            sha256s.append(sha)
        link = normalise_link(item.get("url") or item.get("link"))
        if link and link not in links:
            links.append(link)

    call_id = _first(application, _CALL_KEYS)
    unit = _first(application, _UNIT_KEYS)
    raw_name = _first(application, _NAME_KEYS)
    name_norm = normalise_project_name(raw_name)
    name_alts = project_name_alternatives(raw_name)
    toks = tokens(name_alts, _narrative(application))
    return ProjectSignals(
        id=str(app_id),
        call_id=str(call_id) if call_id is not None else None,
        unit_code=str(unit) if unit is not None else None,
        credit_code=normalise_credit_code(_first(application, _CREDIT_KEYS)),
        org_norm=normalise_org(org),
        org_core=normalise_org(org, drop_province=True),
        name_norm=name_norm,
        name_alts=name_alts,
        org_alts=org_alternatives(org),
        minhash=signature,
        text_bands=band_keys(signature),
        shingle_count=n_shingles,
        facts=extract_facts(folded),
        phashes=phashes,
        sha256s=sha256s,
        links=links,
        terms=toks.terms,
        entities=toks.entities,
        name_terms=toks.name_terms,
        figures=toks.figures,
    )


def own_name_cores(signals: ProjectSignals) -> list[str]:
    """The project's name cores without its OWN organisation's name and the generic words
    (壹基金温暖包 of 深圳壹基金公益基金会 -> 温暖包): the key on which 壹基金温暖包 and “温暖包”公益项目
    meet even when they share nothing else (a list of names without narratives)."""
    orgs = tuple(sorted({o for o in (*signals.org_alts, signals.org_core) if len(o) >= 2}))
    return sorted({c for n in (signals.name_alts or [signals.name_norm]) if n and len(c := name_core(n, orgs)) >= 2})


def candidate_keys(signals: ProjectSignals) -> dict[str, list[str]]:
    """What to index for a project and what to look up for it: field -> keyword values.

    The search index stores these as keyword fields of the same names; a candidate query is
    a bool ``should`` of one ``terms`` clause per field (see ``index.py`` and
    docs/duplicates.md). ``term`` keys are the kept words and entities: their postings give
    candidates that share rare words, and each posting's count is the word's document frequency,
    which the scoring turns into IDF (``similarity.TermStats``). The organisation is keyed by
    its province-less core so 河南省某某基金会 and 某某基金会 meet.
    """
    return {
        "credit_code": [signals.credit_code] if signals.credit_code else [],
        "org": sorted({o for o in [signals.org_core, *signals.org_alts] if len(o) >= 2}),
        "name": sorted({n for n in [signals.name_norm, *signals.name_alts] if len(n) >= 2}),
        "name_core": own_name_cores(signals),
        "text_band": list(signals.text_bands),
        "phash_band": sorted({k for ph in signals.phashes for k in phash_band_keys(ph)}),
        "sha256": list(signals.sha256s),
        "link": list(signals.links),
        "term": list(signals.terms),
    }
