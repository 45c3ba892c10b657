"""``gongyi duplicates check FILE.jsonl [--json]`` as staff run it: a real file, a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from services.review.domain.duplicates.batch import check_records, parse_records

REPO = Path(__file__).resolve().parents[3]
REAL = REPO / "bench" / "data" / "dedupe" / "realworld" / "records.jsonl"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "gongyi.cli", "duplicates", "check", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def _sample(tmp_path: Path) -> Path:
    """Three real projects' records (免费午餐, 99公益日, 蓝信封) and some background, org names
    given and no credit codes."""
    rows = [json.loads(x) for x in REAL.read_text(encoding="utf-8").splitlines()]
    keep = [r for r in rows if r["group"] in {"free-lunch", "tencent-99", "blue-envelope"}] + rows[-40:]
    path = tmp_path / "unit.jsonl"
    path.write_text("".join(json.dumps({k: r[k] for k in ("id", "project_name", "org_name", "summary", "call_id")},
                                       ensure_ascii=False) + "\n" for r in keep), encoding="utf-8")
    return path


def test_cli_json_prints_one_object_per_flagged_pair_and_nothing_else(tmp_path):
    path = _sample(tmp_path)
    done = run_cli(str(path), "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    objs = [json.loads(x) for x in lines]  # every line of stdout is one JSON object
    assert objs and all(set(o) == {"a", "b", "score", "reasons"} for o in objs)
    assert all(o["a"] < o["b"] and 0.5 <= o["score"] <= 1 and o["reasons"] for o in objs)
    group = {json.loads(x)["id"]: json.loads(x).get("group") for x in REAL.read_text(encoding="utf-8").splitlines()}
    same = [o for o in objs if group[o["a"]] == group[o["b"]]]
    assert len(same) >= 0.9 * len(objs)  # what it flags is mostly the same project
    assert {group[o["a"]] for o in same} >= {"free-lunch", "tencent-99"}
    # exactly the domain's check (the service's signals, candidates and scoring)
    records = parse_records(path.read_text(encoding="utf-8").splitlines())
    expected = [(s.a_id, s.b_id, s.score) for s in check_records(records)]
    assert [(o["a"], o["b"], o["score"]) for o in objs] == expected


def test_cli_bad_line_names_the_line_and_prints_nothing(tmp_path):
    path = _sample(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(4, '{"id": "broken", "project_name": "半行')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run_cli(str(path), "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "第 5 行" in done.stderr and "line 5" in done.stderr


def test_cli_repeated_id_and_non_object_are_refused(tmp_path):
    path = tmp_path / "dup.jsonl"
    path.write_text('{"id": "a", "project_name": "甲"}\n\n{"id": "a", "project_name": "乙"}\n', encoding="utf-8")
    done = run_cli(str(path), "--json")
    assert done.returncode == 2 and done.stdout == "" and "line 3" in done.stderr and "repeats line 1" in done.stderr
    path.write_text('["not", "an", "object"]\n', encoding="utf-8")
    done = run_cli(str(path))
    assert done.returncode == 2 and done.stdout == "" and "line 1" in done.stderr


def test_cli_human_output_lists_pairs_with_reasons(tmp_path):
    done = run_cli(str(_sample(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert "疑似重复" in done.stdout and "score" in done.stdout and "+ " in done.stdout
