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


def test_fields_of_the_wrong_type_are_refused_naming_the_line_not_a_traceback(tmp_path):
    good = '{"id": "a", "project_name": "甲", "org_name": "某基金会", "summary": "为乡村学校捐赠图书。"}\n'
    cases = {
        '{"id": "b", "project_name": "乙", "credit_code": 91110108}\n': "credit_code",
        '{"id": "b", "project_name": "乙", "evidence": [{"url": 5}]}\n': "url",
        '{"id": "b", "project_name": "乙", "evidence": [{"phash": "not-hex"}]}\n': "phash",
        '{"id": "b", "project_name": "乙", "implementation_results": ["x"]}\n': "implementation_results",
    }
    for line, field in cases.items():
        path = tmp_path / "bad.jsonl"
        path.write_text(good + line, encoding="utf-8")
        done = run_cli(str(path), "--json")
        assert done.returncode == 2 and done.stdout == "", (field, done.stderr)
        assert "line 2" in done.stderr and field in done.stderr and "Traceback" not in done.stderr


def test_the_forms_results_field_counts_as_narrative():
    """A unit's spreadsheet exported from the form names its results ``implementation_results``."""
    text = "邓飞发起，为贫困山区学生提供午餐，已覆盖1830所学校，惠及44万名学生。"
    records = parse_records([
        json.dumps({"id": "a", "project_name": "免费午餐", "org_name": "中国社会福利基金会", "summary": text}),
        json.dumps({"id": "b", "project_name": "免费午餐基金公募计划", "org_name": "中国社会福利基金会",
                    "implementation_results": text}),
    ])
    [pair] = check_records(records)
    assert {pair.a_id, pair.b_id} == {"a", "b"}
    assert any("figures" in r.code or "text" in r.code or "term" in r.code for r in pair.reasons), pair.reasons
