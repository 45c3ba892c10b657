"""Counts and integrity checks for the real-world duplicate-detection evaluation set.

Run: python bench/data/dedupe/realworld/stats.py [DIR]
Prints the counts quoted in README.md and exits 1 if any check fails.
Standard library only, so it runs before the project is installed.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path
from typing import Any

RECORD_FIELDS = (
    "id",
    "group",
    "project_name",
    "org_name",
    "summary",
    "source_url",
    "source_title",
    "source_site",
    "author",
    "call_id",
    "fold",
)
HARD_NEGATIVE_KINDS = ("sub_project", "same_org_other_project", "same_theme", "same_event")
N_FOLDS = 5

Record = dict[str, Any]


def load_jsonl(path: Path, problems: list[str]) -> list[Record]:
    rows: list[Record] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                problems.append(f"{path.name}:{number}: not JSON ({exc})")
    return rows


def check_records(records: list[Record], problems: list[str]) -> dict[str, Record]:
    by_id: dict[str, Record] = {}
    urls: Counter[str] = Counter()
    group_folds: dict[str, set[int]] = defaultdict(set)
    for rec in records:
        missing = [f for f in RECORD_FIELDS if f not in rec]
        if missing:
            problems.append(f"record {rec.get('id')}: missing fields {missing}")
            continue
        if rec["id"] in by_id:
            problems.append(f"duplicate id {rec['id']}")
        by_id[rec["id"]] = rec
        urls[rec["source_url"]] += 1
        if not str(rec["source_url"]).startswith(("http://", "https://")):
            problems.append(f"{rec['id']}: source_url is not http(s)")
        for field in ("group", "project_name", "summary", "source_site"):
            if not str(rec[field]).strip():
                problems.append(f"{rec['id']}: empty {field}")
        if rec["call_id"] != "realworld":
            problems.append(f"{rec['id']}: call_id is {rec['call_id']!r}")
        if not isinstance(rec["fold"], int) or not 0 <= rec["fold"] < N_FOLDS:
            problems.append(f"{rec['id']}: fold {rec['fold']!r} not in 0..{N_FOLDS - 1}")
        group_folds[rec["group"]].add(rec["fold"])
    for url, count in urls.items():
        if count > 1:
            problems.append(f"source_url used {count} times: {url}")
    for group, folds in group_folds.items():
        if len(folds) > 1:
            problems.append(f"group {group} spans folds {sorted(folds)}")
    return by_id


def positive_pairs(records: list[Record], problems: list[str]) -> list[tuple[Record, Record]]:
    groups: dict[str, list[Record]] = defaultdict(list)
    for rec in records:
        groups[rec["group"]].append(rec)
    pairs: list[tuple[Record, Record]] = []
    for members in groups.values():
        for a, b in combinations(members, 2):
            # Every same-project pair must be two independent write-ups: another site and another author.
            if a["source_site"] == b["source_site"]:
                problems.append(f"positive pair {a['id']}/{b['id']} on one site {a['source_site']}")
            if a["author"] and a["author"] == b["author"]:
                problems.append(f"positive pair {a['id']}/{b['id']} by one author {a['author']}")
            pairs.append((a, b))
    return pairs


def check_hard_negatives(rows: list[Record], by_id: dict[str, Record], problems: list[str]) -> None:
    seen: set[tuple[str, str]] = set()
    for row in rows:
        a, b, kind = row.get("a"), row.get("b"), row.get("kind")
        if kind not in HARD_NEGATIVE_KINDS:
            problems.append(f"hard negative {a}/{b}: unknown kind {kind!r}")
        if a not in by_id or b not in by_id:
            problems.append(f"hard negative {a}/{b}: id not in records.jsonl")
            continue
        if by_id[a]["group"] == by_id[b]["group"]:
            problems.append(f"hard negative {a}/{b}: both in group {by_id[a]['group']}")
        key = (min(a, b), max(a, b))
        if key in seen:
            problems.append(f"hard negative {a}/{b}: listed twice")
        seen.add(key)


def check_alt_names(rows: list[Record], by_id: dict[str, Record], problems: list[str]) -> None:
    groups = {rec["group"] for rec in by_id.values()}
    for row in rows:
        query, group, used_by = row.get("query", ""), row.get("group"), row.get("used_by")
        if group not in groups:
            problems.append(f"alt name {query!r}: unknown group {group}")
            continue
        rec = by_id.get(used_by or "")
        if rec is None or rec["group"] != group:
            problems.append(f"alt name {query!r}: used_by {used_by} is not a record of {group}")
            continue
        # The query must be a name some source actually uses, not one made up here.
        if query not in rec["project_name"] + rec["summary"] + rec["source_title"]:
            problems.append(f"alt name {query!r}: not found in {used_by}")
        names = {r["project_name"].strip('“”「」"') for r in by_id.values() if r["group"] == group}
        if names == {query}:
            problems.append(f"alt name {query!r}: every record of {group} already uses it")


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    problems: list[str] = []
    records = load_jsonl(folder / "records.jsonl", problems)
    hard = load_jsonl(folder / "hard_negatives.jsonl", problems)
    alts = load_jsonl(folder / "alt_names.jsonl", problems)
    by_id = check_records(records, problems)
    valid = list(by_id.values())
    pairs = positive_pairs(valid, problems)
    check_hard_negatives(hard, by_id, problems)
    check_alt_names(alts, by_id, problems)

    sizes = Counter(rec["group"] for rec in valid)
    print(f"records: {len(valid)}")
    print(f"groups (projects): {len(sizes)}")
    print("groups by number of records: " + ", ".join(f"{n}: {c}" for n, c in sorted(Counter(sizes.values()).items())))
    print(f"single-record projects (background): {sum(1 for n in sizes.values() if n == 1)}")
    print(f"same-project pairs (cross-site, cross-author): {len(pairs)}")
    print(f"distinct source sites: {len({rec['source_site'] for rec in valid})}")
    print(f"records with empty org_name: {sum(1 for rec in valid if not rec['org_name'])}")
    fold_records = Counter(rec["fold"] for rec in valid)
    fold_pairs = Counter(a["fold"] for a, _ in pairs)
    for fold in range(N_FOLDS):
        n_groups = len({rec["group"] for rec in valid if rec["fold"] == fold})
        print(f"fold {fold}: {fold_records[fold]} records, {n_groups} groups, {fold_pairs[fold]} pairs")
    kinds = Counter(row.get("kind") for row in hard)
    print(f"hard negatives: {len(hard)} (" + ", ".join(f"{k}: {kinds[k]}" for k in HARD_NEGATIVE_KINDS) + ")")
    print(f"alternative-name queries: {len(alts)} over {len({row.get('group') for row in alts})} groups")

    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print("integrity: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
