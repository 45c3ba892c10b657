"""`gongyi uscc`: valid sample 统一社会信用代码 for trying the platform out."""

import pytest
from click.testing import CliRunner

from gongyi.cli import main
from services.intake.domain.form import parse_form
from services.intake.domain.uscc import (
    KIND_FOR_APPLICANT_TYPE,
    credit_code_problem,
    make_credit_code,
    sample_credit_codes,
)


def test_samples_are_valid_distinct_and_keep_prefix_and_region():
    codes = sample_credit_codes(200, "91", "410105", seed=3)
    assert len(set(codes)) == 200
    assert all(credit_code_problem(c) is None and c.startswith("91410105") for c in codes)
    assert sample_credit_codes(5, seed=9) == sample_credit_codes(5, seed=9)  # reproducible
    assert make_credit_code("91", "350100", "M000100Y") == "91350100M000100Y43"  # a published code


@pytest.mark.parametrize("prefix,region", [("9", "110108"), ("0A", "110108"), ("9I", "110108"),
                                           ("91", "11010"), ("91", "11010X")])
def test_bad_prefix_or_region_is_refused(prefix, region):
    with pytest.raises(ValueError):
        sample_credit_codes(1, prefix, region)


def test_the_command_prints_codes_the_form_accepts():
    runner = CliRunner()
    out = runner.invoke(main, ["uscc", "-n", "4", "--type", "social_organisation", "--region", "110105"])
    assert out.exit_code == 0, out.output
    codes = out.output.split()
    assert len(codes) == 4 and all(c.startswith(KIND_FOR_APPLICANT_TYPE["social_organisation"] + "110105")
                                   for c in codes)
    for code in codes:
        assert credit_code_problem(code) is None
        assert parse_form({"applicant": {"credit_code": code.lower()}}).applicant.credit_code == code
    bad = runner.invoke(main, ["uscc", "--prefix", "ZZ"])
    assert bad.exit_code == 2 and "registration authority" in bad.output
    both = runner.invoke(main, ["uscc", "--prefix", "91", "--type", "government"])
    assert both.exit_code == 2
    kinds = runner.invoke(main, ["uscc", "--kinds"])
    assert kinds.exit_code == 0 and "53  民政 · 基金会" in kinds.output
