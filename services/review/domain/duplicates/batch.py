"""An offline check of a file of records (``gongyi duplicates check``): the service's signals,
candidate generation and scoring, with the candidate index in memory.

Each record is checked against the index of all records, as the service checks an application
against the postings of all others: ``compute_signals`` -> ``InMemoryCandidateIndex`` (the same
``candidate_keys`` and ``rank_candidates`` counting as the engine's postings; document
frequencies from the postings' lengths) -> ``find_suspicions`` with the index's term
statistics. The pairs are symmetric, so each is reported once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .detector import FLAG_THRESHOLD, Suspicion, find_suspicions, most_similar
from .index import InMemoryCandidateIndex
from .signals import NARRATIVE_FIELDS, ProjectSignals, compute_signals

# every field a record may carry as text (null or absent: not given)
TEXT_FIELDS = ("project_name", "org_name", "credit_code", "unit_code", "call_id", *NARRATIVE_FIELDS)
EVIDENCE_FIELDS = ("sha256", "phash", "url", "link")
_PHASH = re.compile(r"[0-9a-fA-F]{16}")


@dataclass(frozen=True)
class RecordError(Exception):
    """A line of the input that cannot be checked; nothing is reported for the file."""

    line: int
    message_zh: str
    message_en: str

    def __str__(self) -> str:
        return f"第 {self.line} 行：{self.message_zh} / line {self.line}: {self.message_en}"


def parse_records(lines: Iterable[str]) -> list[dict[str, Any]]:
    """One JSON object a line (blank lines skipped), each with a unique non-empty ``id``.
    Raises ``RecordError`` naming the first bad line (1-based)."""
    records: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise RecordError(n, f"不是有效的 JSON（{exc.msg}，第 {exc.colno} 列）",
                              f"not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(rec, dict):
            raise RecordError(n, "应为一个 JSON 对象", "expected one JSON object")
        rid = rec.get("id")
        if isinstance(rid, bool) or not isinstance(rid, str | int) or not str(rid).strip():
            raise RecordError(n, "缺少 id（非空字符串或数字）", "missing id (a non-empty string or number)")
        rid = str(rid)
        if rid in seen:
            raise RecordError(n, f"id {rid} 与第 {seen[rid]} 行重复", f"id {rid} repeats line {seen[rid]}")
        ev = rec.get("evidence", [])
        if ev is None:
            ev = []
        if not isinstance(ev, list) or not all(isinstance(e, Mapping) for e in ev):
            raise RecordError(n, "evidence 应为对象列表", "evidence must be a list of objects")
        for k in TEXT_FIELDS:
            if rec.get(k) is not None and not isinstance(rec[k], str):
                raise RecordError(n, f"{k} 应为字符串", f"{k} must be a string")
        for i, item in enumerate(ev, start=1):
            for k in EVIDENCE_FIELDS:
                if item.get(k) is not None and not isinstance(item[k], str):
                    raise RecordError(n, f"evidence 第 {i} 项的 {k} 应为字符串",
                                      f"evidence item {i}: {k} must be a string")
            phash = item.get("phash")
            if phash and not _PHASH.fullmatch(phash.strip()):
                raise RecordError(n, f"evidence 第 {i} 项的 phash 应为 16 位十六进制数",
                                  f"evidence item {i}: phash must be 16 hexadecimal digits")
        seen[rid] = n
        records.append({**rec, "id": rid, "evidence": ev})
    return records


def build_index(records: Iterable[Mapping[str, Any]]) -> tuple[InMemoryCandidateIndex, list[ProjectSignals]]:
    signals = [compute_signals(r, r.get("evidence") or []) for r in records]
    index = InMemoryCandidateIndex()
    index.add_all(signals)
    return index, signals


def check_records(records: Iterable[Mapping[str, Any]], threshold: float = FLAG_THRESHOLD) -> list[Suspicion]:
    """Every flagged pair among ``records``, strongest first (ties by ids)."""
    index, signals = build_index(records)
    found: dict[tuple[str, str], Suspicion] = {}
    for s in signals:
        for sus in find_suspicions(s, index.lookup, threshold=threshold, stats_for=index.term_stats):
            found.setdefault(sus.pair, sus)
    return sorted(found.values(), key=lambda x: (-x.score, x.pair))


def similar_records(
    records: Iterable[Mapping[str, Any]], top_n: int = 5
) -> dict[str, list[Suspicion]]:
    """Each record's ``top_n`` most similar others, flagged or not (the review queue's view)."""
    index, signals = build_index(records)
    return {s.id: most_similar(s, index.lookup, top_n, index.term_stats) for s in signals}
