from __future__ import annotations

import pytest

from services.intake.domain.project_names import normalise_project_name


@pytest.mark.parametrize(
    "a,b",
    [
        ("《守护留守儿童》网络助学项目", "守护留守儿童网络助学"),
        ("守护 留守儿童·网络助学", "守护留守儿童网络助学"),
        ("ＡＢＣ公益课堂", "abc公益课堂"),
        ("「云上」乡村振兴！", "云上乡村振兴"),
        ("網絡助學項目", "网络助学"),
        ("e起行动项目项目", "e起行动"),
    ],
)
def test_same_project_written_differently(a, b):
    assert normalise_project_name(a) == normalise_project_name(b)


@pytest.mark.parametrize(
    "a,b",
    [("守护留守儿童", "守护空巢老人"), ("项目管理培训", "管理培训"), ("abc公益课堂", "abd公益课堂")],
)
def test_different_projects_stay_different(a, b):
    assert normalise_project_name(a) != normalise_project_name(b)


def test_a_name_that_is_only_the_suffix_is_kept():
    assert normalise_project_name("项目") == "项目"
