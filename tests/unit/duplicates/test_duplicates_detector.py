import datetime as dt
import json

import pytest

from gongyi.errors import DomainError
from services.review.domain.duplicates import (
    InMemoryCandidateIndex,
    ProjectSignals,
    candidate_keys,
    cluster,
    compute_signals,
    explain_pair,
    find_suspicions,
    is_settled,
    is_suppressed,
    score_pair,
    settle_different_projects,
    settle_same_project,
)

CREDIT = "91410225MA44XYZ12K"
PHOTOS = ["f532bc657ca685c3", "38c30ad7846b1f07", "514c5942c740eb58", "9ebe6352c949072d"]

BASE_TEXT = (
    "兰考县地处黄河故道，蜜瓜种植户数量多、分布散，长期面临农产品销路不畅的突出困难。"
    "星火公益自2018年起关注农产品上行问题，先后走访了46个村庄。"
    "项目依托抖音直播间开展农产品直播带货，农户只需在手机上即可报名参与。"
    "团队联合县融媒体中心组织产地直供，形成线上线下相结合的服务模式。"
    "我们招募了126名志愿者，经过系统培训后分组对接服务对象。"
    "截至目前，项目累计服务脱贫户38600人次，开展活动437场。"
    "项目共筹集善款582万元，全部用于农产品上行相关支出。"
    "志愿者累计服务时长超过15270小时，相关内容在网络上的浏览量达到2038万次。"
    "下一步，项目将继续扩大服务范围，力争覆盖更多农户。"
)
# Same project, rewritten: other words, other order, same facts.
REWRITTEN = (
    "从2018年开始，星火公益就持续关注农产品上行，实地走访村庄46个。"
    "借助抖音直播间，项目组织农产品直播带货，农户用手机就能完成报名。"
    "项目先后招募志愿服务者126名，培训合格后按小组结对服务。"
    "在兰考县，蜜瓜种植户人数众多且居住分散，农产品上行一直是当地的难点问题。"
    "到目前为止，项目已为脱贫户提供服务3.86万人次，举办各类行动437场。"
    "总计募集资金582万元，资金全部投入农产品上行领域。"
    "志愿服务总时长已突破15270小时，项目相关话题网络阅读量总计2038万次。"
    "未来，我们将更好地扩大覆盖面，让更多农户受益。"
)
OTHER_PROJECT_TEXT = (
    "乡村儿童阅读资源匮乏，星火公益发起云端图书室，为山区学校捐建线上线下图书角。"
    "项目在微信小程序上开展线上共读，每周组织一次阅读分享会，邀请儿童文学作家与孩子们交流。"
    "我们培训了73名乡村阅读推广人，覆盖29所学校，累计借阅图书41250册次。"
    "家住东坪村的小王今年九岁，通过线上共读重拾了学习信心。"
)


def app(id_, text, name, org="河南省星火公益基金会", credit=CREDIT, call="call-2023", unit="河南省委网信办"):
    return {"id": id_, "call_id": call, "unit_code": unit, "org_name": org, "credit_code": credit,
            "project_name": name, "narrative": text}


def images(hashes, reencode=False):
    out = []
    for i, h in enumerate(hashes):
        v = int(h, 16) ^ (0b101 if reencode else 0)
        out.append({"kind": "image", "sha256": f"{'ab' if reencode else 'cd'}{i:062x}", "phash": f"{v:016x}"})
    return out


@pytest.fixture
def base():
    return compute_signals(app("A1", BASE_TEXT, "“好物出山”直播助农行动"), images(PHOTOS) + [
        {"kind": "media_report", "url": "https://www.dahe.cn/n1/2023/0315/c123-456.html"}])


def test_duplicates_rewritten_resubmission_is_flagged_with_reasons(base):
    dup = compute_signals(
        app("B7", REWRITTEN, "2024年好物出山·云上助农计划", org="星火公益基金會", call="call-2024", unit="人民网"),
        images(PHOTOS[:3], reencode=True) + [{"kind": "media_report",
                                               "url": "http://m.dahe.cn/n1/2023/0315/c123-456.html?from=timeline"}],
    )
    s = score_pair(base, dup)
    assert s is not None and s.score >= 0.95
    assert s.pair == ("A1", "B7")
    codes = {r.code for r in s.reasons}
    assert {"same_credit_code", "same_images", "same_media_link", "same_figures", "cross_call", "cross_unit"} <= codes
    texts = " ".join(r.message_zh for r in s.reasons)
    assert "3 张图片相同或近似" in texts and "同一统一社会信用代码" in texts and "同一媒体报道链接" in texts
    assert s.cross_call and s.cross_unit and (s.a_call, s.b_call) == ("call-2023", "call-2024")
    json.dumps(s.to_dict(), ensure_ascii=False)  # serialisable for events and the API


def test_duplicates_same_org_different_project_is_not_flagged(base):
    other = compute_signals(app("A2", OTHER_PROJECT_TEXT, "云端图书室乡村阅读推广"), images(PHOTOS[:1]))
    assert score_pair(base, other) is None  # same credit code, even one shared logo photo
    score, pro, con, _ = explain_pair(base, other)
    assert score < 0.5 and any(r.code == "same_credit_code" for r in pro)


def test_duplicates_same_theme_other_province_boilerplate_is_not_flagged(base):
    other_text = (
        BASE_TEXT.replace("兰考县", "通渭县").replace("黄河故道", "黄土高原").replace("蜜瓜", "马铃薯")
        .replace("星火公益", "陇原青禾协会").replace("46", "83").replace("126", "317").replace("38600", "12750")
        .replace("437", "169").replace("582", "236").replace("15270", "8840").replace("2038", "512")
        .replace("2018", "2020")
    )
    other = compute_signals(
        app("C3", other_text, "“好物出山”甘肃直播助农行动", org="甘肃省陇原青禾协会", credit="52620000MJ1234567X",
            unit="甘肃省委网信办"), [])
    _, _, _, feats = explain_pair(base, other)
    assert feats["text_jaccard"] >= 0.3  # the words are largely shared
    # Scored as a check scores it, with the corpus' word statistics (here the two projects: the
    # shared 好物出山 is then held by every project, not rare); without statistics every shared
    # word counts as rare.
    index = InMemoryCandidateIndex()
    index.add_all([base, other])
    assert score_pair(base, other, stats=index.term_stats(base, [other])) is None  # nothing says it is one project


def test_duplicates_identical_text_alone_is_flagged(base):
    other = compute_signals(app("Z9", BASE_TEXT, "另一个名字", org="别的单位", credit="52110000MJ7654321Y"), [])
    s = score_pair(base, other)
    assert s is not None and any(r.code == "text_similarity" for r in s.reasons)


def test_duplicates_self_pair_is_never_a_suspicion(base):
    assert score_pair(base, base) is None


def test_duplicates_signals_round_trip_and_candidate_keys(base):
    again = ProjectSignals.from_dict(json.loads(json.dumps(base.to_dict())))
    assert again == base
    keys = candidate_keys(base)
    assert keys["credit_code"] == [CREDIT]
    assert keys["org"] == ["星火公益"]
    assert keys["name"] == ["好物出山直播助农"]
    assert len(keys["text_band"]) == 32 and len(keys["phash_band"]) == 16
    assert keys["link"] == ["dahe.cn/n1/2023/0315/c123-456.html"]


def test_duplicates_index_lookup_finds_duplicate_without_scanning(base):
    index = InMemoryCandidateIndex()
    dup = compute_signals(app("B7", REWRITTEN, "好物出山云上助农", call="call-2024"), images(PHOTOS, reencode=True))
    unrelated = compute_signals(
        app("Q1", OTHER_PROJECT_TEXT, "书香童年", org="浙江清源助学促进会", credit="52330000MJ0000001A"), [])
    elsewhere = compute_signals(app("R2", "Coding club for girls in Lisbon, weekly sessions.", "Code Club",
                                    org="Clube", credit="52330000MJ0000002B"), [])
    index.add_all([base, dup, unrelated, elsewhere])
    found = find_suspicions(base, index.lookup, stats_for=index.term_stats)
    assert [s.pair for s in found] == [("A1", "B7")]  # Q1 shares words (星火公益), not enough to flag
    assert "R2" not in index.candidate_ids(candidate_keys(base), "A1")  # shares no key: never compared
    index.remove("B7")
    assert find_suspicions(base, index.lookup, stats_for=index.term_stats) == []


def test_duplicates_cluster_groups_connected_pairs():
    groups = cluster([("A", "B"), ("B", "C"), ("D", "E"), ("F", "F")])
    assert groups == [{"A", "B", "C"}, {"D", "E"}]
    assert cluster([]) == []


def test_duplicates_settlement_rules(base):
    at = dt.datetime(2024, 3, 5, tzinfo=dt.UTC)
    same = settle_same_project(["A1", "B7", "C2"], keep_id="A1", decided_by="staff-1", decided_at=at)
    assert same.others == {"B7", "C2"} and same.action == "withdrawn"
    diff = settle_different_projects(["A1", "Q1"], decided_by="staff-2", decided_at=at)
    assert is_suppressed(("Q1", "A1"), [same, diff])
    assert not is_suppressed(("A1", "B7"), [same, diff])
    assert is_settled(("B7", "C2"), [same]) and not is_settled(("A1", "Q1"), [same])
    with pytest.raises(DomainError) as err:
        settle_same_project(["A1", "B7"], keep_id="X", decided_by="s")
    assert err.value.code == "settlement_keep_not_in_group"
    with pytest.raises(DomainError):
        settle_different_projects(["A1"], decided_by="s")


def test_duplicates_suppressed_pair_is_not_raised_again(base):
    dup = compute_signals(app("B7", REWRITTEN, "好物出山云上助农"), images(PHOTOS))
    index = InMemoryCandidateIndex()
    index.add_all([base, dup])
    assert find_suspicions(base, index.lookup)
    diff = settle_different_projects(["A1", "B7"], decided_by="staff")
    assert find_suspicions(base, index.lookup, settlements=[diff]) == []
    assert find_suspicions(dup, index.lookup, settlements=[diff]) == []
