import pytest

from services.review.domain.duplicates.normalise import (
    name_similarity,
    normalise_credit_code,
    normalise_org,
    normalise_project_name,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("河南省星火科技股份有限公司", "河南省星火科技"),
        ("河南省星火科技有限責任公司", "河南省星火科技"),
        ("星火科技有限公司", "星火科技"),
        ("星火科技集团有限公司", "星火科技"),
        ("中国互联网发展基金会", "中国互联网发展"),
        ("ＡＢＣ 网络 科技（北京）有限公司", "abc网络科技北京"),
        ("廣西壯族自治區春苗公益基金會", "广西壮族自治区春苗公益"),
        ("", ""),
        (None, ""),
    ],
)
def test_duplicates_org_normalisation_table(raw, expected):
    assert normalise_org(raw) == expected


def test_duplicates_org_province_prefix_is_optional():
    assert normalise_org("河南省星火公益基金会", drop_province=True) == "星火公益"
    assert normalise_org("河南星火公益基金会", drop_province=True) == "星火公益"
    assert normalise_org("新疆维吾尔自治区星火公益基金会", drop_province=True) == "星火公益"
    # A name that IS a province stays as it is.
    assert normalise_org("河南省", drop_province=True) == "河南省"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("《2023年“互联网+”乡村振兴直播助农行动》", "乡村振兴直播助农"),
        ("乡村振兴直播助农项目", "乡村振兴直播助农"),
        ("2024年度網絡公益鄉村振興直播助農計劃", "乡村振兴直播助农"),
        ("互联网＋教育发展", "教育发展"),
        ("“小橘灯”云端图书室公益行动", "小橘灯云端图书室"),
        ("2023-2024年守护留守童年工程", "守护留守童年"),
        ("网络公益讲师团", "讲师团"),
        ("公益", "公益"),
    ],
)
def test_duplicates_project_name_normalisation_table(raw, expected):
    assert normalise_project_name(raw) == expected


def test_duplicates_credit_code_normalisation():
    assert normalise_credit_code(" 91410100ma3x0x0x0x ") == "91410100MA3X0X0X0X"
    assert normalise_credit_code("９１４１０１００ＭＡ３Ｘ０Ｘ０Ｘ０Ｘ") == "91410100MA3X0X0X0X"
    assert normalise_credit_code("123") is None
    assert normalise_credit_code(None) is None


def test_duplicates_name_similarity_views():
    assert name_similarity("乡村振兴直播助农", "乡村振兴直播助农") == 1.0
    # reordered parts (bigram Dice)
    assert name_similarity("直播助农乡村振兴", "乡村振兴直播助农") >= 0.8
    # one inside the other (partial ratio, discounted)
    assert name_similarity("兰考县乡村振兴直播助农", "乡村振兴直播助农") >= 0.85
    # unrelated
    assert name_similarity("关爱留守儿童", "乡村振兴直播助农") < 0.2
    # a short generic core does not match everything through partial_ratio
    assert name_similarity("助学", "春蕾女童助学圆梦") < 0.6
    assert name_similarity("", "助学") == 0.0
