"""Words, entities, figures with units and their rarity-weighted comparisons (terms.py,
similarity.py), and the fitted scoring on independently written descriptions."""

from __future__ import annotations

import math

import pytest

from services.review.domain.duplicates import InMemoryCandidateIndex, TermStats, compute_signals, explain_pair
from services.review.domain.duplicates.batch import check_records
from services.review.domain.duplicates.normalise import org_alternatives, project_name_alternatives
from services.review.domain.duplicates.similarity import (
    name_cover,
    rarest_shared,
    same_name_core,
    shared_entities,
    term_cosine,
)
from services.review.domain.duplicates.terms import extract_figures, tokens

# Two reporters' own words about one project, and a look-alike from the same founder.
LUNCH_A = {"id": "A", "project_name": "免费午餐基金公募计划", "org_name": "中国社会福利基金会",
           "summary": "2011年邓飞联合500名记者发起免费午餐，倡议每天捐赠3元为贫困学童提供午餐。"
                      "截至2025年4月，免费午餐在全国26个省区市的1830所学校开餐。"}
LUNCH_B = {"id": "B", "project_name": "“免费午餐”公益项目", "org_name": "中国社会福利基金会免费午餐基金",
           "summary": "记者出身的邓飞在湖北鹤峰走访时看到孩子们中午饿肚子，于是在微博上发起“免费午餐”。"
                      "项目已在1830所学校开餐，受益学生超过44万人。"}
INSURANCE = {"id": "C", "project_name": "中国乡村儿童大病医保", "org_name": "中国社会福利基金会",
             "summary": "邓飞发起的大病医保项目为乡村儿童购买大病保险，已在多个县覆盖数十万名儿童，"
                        "报销重大疾病的医疗费用。"}
BACKGROUND = [
    {"id": f"bg{i}", "project_name": name, "org_name": org, "summary": text}
    for i, (name, org, text) in enumerate([
        ("蓝信封留守儿童书信陪伴", "蓝信封", "大学生志愿者与留守儿童一对一通信，陪伴孩子成长。"),
        ("春蕾计划", "中国儿童少年基金会", "资助贫困女童上学，已帮助数百万名女童完成学业。"),
        ("多背一公斤", "安猪", "旅行者出行时多背一公斤书籍文具，送给沿途的乡村学校。"),
        ("爱心包裹", "中国扶贫基金会", "公众捐赠爱心包裹，为贫困地区小学生送去文具和生活用品。"),
        ("美丽中国支教", "美丽中国", "招募优秀大学毕业生到乡村学校支教两年，在全国多所学校任教。"),
    ])
]


def test_figures_keep_their_units_and_apply_multipliers():
    figs = extract_figures("募捐12.47亿元，在1830所学校开餐，帮助超44万人，2019年启动，共3元")
    assert figs == sorted(["1247000000元", "1830所", "440000人"])  # 2019年 a year, 3元 below 10


def test_tokens_find_persons_places_quoted_names_and_the_name_words():
    t = tokens(project_name_alternatives("免费午餐基金公募计划"), LUNCH_B["summary"])
    assert "邓飞" in t.entities and "免费午餐" in t.entities  # a person, a quoted name
    assert "鹤峰" in t.terms or "湖北" in t.terms
    assert {"免费", "午餐"} <= set(t.name_terms)
    assert set(t.entities) <= set(t.terms) and set(t.name_terms) <= set(t.terms)
    assert "1830所" in t.figures


def test_name_and_org_alternatives_split_partners_and_long_forms():
    alts = project_name_alternatives("团圆系统(公安部儿童失踪信息紧急发布平台)")
    assert alts[1:] == ["团圆系统", "公安部儿童失踪信息紧急发布平台"]
    orgs = org_alternatives("中国乡村发展基金会(原中国扶贫基金会)、百胜餐饮集团")
    assert {"中国扶贫", "中国乡村发展", "百胜餐饮集团"} <= set(orgs)


def test_idf_weight_is_in_0_1_and_falls_with_document_frequency():
    stats = TermStats(1000, {"公益": 900, "邓飞": 2})
    assert 0 < stats.weight("公益") < 0.2 < stats.weight("邓飞") <= 1.0
    assert stats.weight("unseen") == pytest.approx(math.log1p(1000) / math.log1p(1000))


def test_rare_shared_words_weigh_more_than_common_ones():
    a, b = compute_signals(LUNCH_A, []), compute_signals(LUNCH_B, [])
    shared = set(a.terms) & set(b.terms)
    common = TermStats(100, {t: 90 for t in shared})  # every shared word in 90 of 100 projects
    rare = TermStats(100, {t: 2 for t in shared})  # held by these two only
    assert term_cosine(a, b, rare) > term_cosine(a, b, common)
    assert shared_entities(a, b, rare)[0] > shared_entities(a, b, common)[0]
    assert "邓飞" in shared_entities(a, b, rare)[1]
    assert name_cover(a, b, rare)[0] > 0.5  # most of the name (免费, 午餐) is named in the other


def test_same_project_by_two_reporters_is_flagged_the_founders_other_project_is_not():
    records = [LUNCH_A, LUNCH_B, INSURANCE, *BACKGROUND]
    found = {s.pair: s for s in check_records(records)}
    assert ("A", "B") in found
    assert ("A", "C") not in found and ("B", "C") not in found  # same founder and body, another project
    codes = {r.code for r in found[("A", "B")].reasons}
    assert {"name_cover_rare", "same_entities", "same_figures_units"} <= codes
    assert any("邓飞" in r.message_zh for r in found[("A", "B")].reasons)


def test_score_through_the_index_uses_its_document_frequencies():
    index = InMemoryCandidateIndex()
    signals = [compute_signals(r, []) for r in (LUNCH_A, LUNCH_B, INSURANCE, *BACKGROUND)]
    index.add_all(signals)
    a, b = signals[0], signals[1]
    stats = index.term_stats(a, [b])
    assert stats.n == len(signals) and stats.df["邓飞"] == 3  # A, B and the insurance project
    s_idx, *_ = explain_pair(a, b, stats)
    s_flat, *_ = explain_pair(a, b, TermStats(len(signals), {t: len(signals) for t in stats.df}))
    assert s_idx > s_flat  # the same words count for less when every project holds them


def test_name_core_drops_the_organisation_and_generic_words_but_keeps_a_sub_projects_own_word():
    def sig(name: str, org: str) -> object:
        return compute_signals({"id": name, "project_name": name, "org_name": org, "summary": ""}, [])

    assert same_name_core(sig("壹基金温暖包", "深圳壹基金公益基金会"), sig("“温暖包”公益项目", "壹基金")) == "温暖包"
    assert same_name_core(sig("免费午餐基金", "中国社会福利基金会"), sig("免费午餐", "")) == "免费午餐"
    assert same_name_core(sig("中国扶贫基金会爱心包裹项目", "中国扶贫基金会"), sig("“爱心包裹”", "")) == "爱心包裹"
    assert same_name_core(sig("爱心包裹项目", "中国扶贫基金会"), sig("国际爱心包裹项目", "中国扶贫基金会")) == ""
    assert project_name_alternatives("沪江“互+计划”")[0] == project_name_alternatives("沪江互加计划")[0]


def test_rarest_shared_is_a_name_or_entity_and_its_weight_follows_the_corpus():
    a, b = compute_signals(LUNCH_A, []), compute_signals(LUNCH_B, [])
    stats = TermStats(100, {t: 30 for t in set(a.terms) & set(b.terms)} | {"邓飞": 2})
    weight, ranked = rarest_shared(a, b, stats)
    assert ranked[0] == "邓飞" and weight == pytest.approx(stats.weight("邓飞"))
    assert set(ranked) <= set(a.entities) | set(b.entities) | set(a.name_terms) | set(b.name_terms)
    common = TermStats(100, {t: 90 for t in set(a.terms) & set(b.terms)})
    assert rarest_shared(a, b, common)[0] < 0.2  # nothing the two share is rare in this corpus


def test_a_list_of_names_without_narratives_still_finds_the_same_project():
    names = [("a", "壹基金温暖包", "深圳壹基金公益基金会"), ("b", "“温暖包”公益项目", "壹基金"),
             ("c", "春蕾计划", "中国儿童少年基金会"), ("d", "蓝信封留守儿童书信陪伴", "蓝信封"),
             ("e", "爱心包裹项目", "中国扶贫基金会"), ("f", "国际爱心包裹项目", "中国扶贫基金会")]
    found = {s.pair for s in check_records([{"id": i, "project_name": n, "org_name": o} for i, n, o in names])}
    assert ("a", "b") in found  # the same name once the organisation's own name is set aside
    # unrelated names are not; with names alone a sub-project of the same body (e, f) may be, for staff to see
    assert found <= {("a", "b"), ("e", "f")}


def _real_signals() -> list:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "bench" / "data" / "dedupe" / "realworld" / "records.jsonl"
    return [compute_signals(r, []) for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())]


def test_optimistic_stats_keep_the_projects_words_and_give_the_rest_the_lowest_weight():
    stats = TermStats(5000, {"邓飞": 3, "乡村": 800})
    bound = stats.optimistic(["邓飞", "午餐"])
    assert bound.weight("邓飞") == stats.weight("邓飞")
    assert bound.weight("午餐") == stats.weight("午餐")  # unlisted here and there: one holder
    assert bound.weight("乡村") < stats.weight("乡村")  # the candidate's word: as common as can be
    assert bound.weight("乡村") == TermStats(5000, {"乡村": 10**6}).weight("乡村")  # df counts stop at DF_CAP


def test_a_check_fetches_word_counts_only_for_candidates_that_could_be_flagged():
    from services.review.domain.duplicates import candidate_keys, find_suspicions, score_pair

    signals = _real_signals()
    index = InMemoryCandidateIndex()
    index.add_all(signals)
    asked, offered, flagged = 0, 0, 0
    for s in signals:
        others = index.lookup(candidate_keys(s), s.id)
        full = index.term_stats(s, others)
        expected = {p.pair: p.score for o in others if (p := score_pair(s, o, stats=full))}
        seen: list[int] = []

        def stats_for(sig, cands, seen=seen):  # noqa: ANN001, ANN202
            seen.append(len(cands))
            return index.term_stats(sig, cands)

        got = {p.pair: p.score for p in find_suspicions(s, index.lookup, stats_for=stats_for)}
        assert got == expected, s.id  # the same pairs, the same scores
        offered += len(others)
        asked += seen[-1]
        flagged += len(got)
    assert flagged > 100
    assert asked < offered / 2  # most candidates' words were never looked up


def test_no_pruning_when_a_candidate_word_comparison_weighs_against(monkeypatch):
    from services.review.domain.duplicates import candidate_keys, detector, find_suspicions

    signals = _real_signals()[:60]
    index = InMemoryCandidateIndex()
    index.add_all(signals)
    monkeypatch.setitem(detector.FITTED_WEIGHTS, "term_cosine", -1.0)
    for s in signals:
        seen: list[int] = []
        find_suspicions(s, index.lookup, stats_for=lambda sig, c, seen=seen: seen.append(len(c)) or
                        index.term_stats(sig, c))
        assert seen[-1] == len(index.lookup(candidate_keys(s), s.id))
