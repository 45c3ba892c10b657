from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from intake_factories import make_credit_code

from services.intake.domain.uscc import (
    ALPHABET,
    AUTHORITIES,
    check_char,
    credit_code_problem,
    is_valid_credit_code,
    org_check_char,
)

ORG_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 11714 bodies that fit the USCC alphabet


@pytest.mark.parametrize(
    "code",
    ["91350100M000100Y43", "91110108551385082Q", "91440300708461136T", "12100000400000624D"],
)
def test_published_codes_are_valid(code):
    assert credit_code_problem(code) is None


def test_weights_and_check_characters_follow_the_standard():
    # GB 32100 weights are 3^(i-1) mod 31.
    assert check_char("91350100M000100Y4") == "3"
    assert org_check_char("M000100Y") == "4"
    assert org_check_char("00000001") == "9"  # 11 - 1*2
    assert org_check_char("00000006") == "X"  # 11 - (12 mod 11) = 10 -> X
    assert org_check_char("00000000") == "0"  # 11 -> 0
    assert ALPHABET.count("I") + ALPHABET.count("O") + ALPHABET.count("Z") + ALPHABET.count("S") == 0
    assert "V" not in ALPHABET and len(ALPHABET) == 31


@pytest.mark.parametrize(
    "code,reason",
    [
        ("91350100M000100Y4", "length"),
        ("91350100M000100Y431", "length"),
        ("91350100M000100Y4O", "charset"),
        ("91350100m000100Y43", "charset"),
        ("B1350100M000100Y43", "authority"),
        ("91350100M000100Y53", "org_check_digit"),
        ("91350100M000100Y44", "check_digit"),
    ],
)
def test_each_problem_is_named(code, reason):
    problem = credit_code_problem(code)
    assert problem is not None and problem.reason == reason
    assert problem.message_zh and problem.message_en


valid_codes = st.builds(
    make_credit_code,
    head=st.tuples(st.sampled_from(sorted(AUTHORITIES)), st.sampled_from(ALPHABET)).map("".join),
    region=st.text("0123456789", min_size=6, max_size=6),
    body=st.text(ORG_BODY_CHARS, min_size=8, max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(valid_codes)
def test_generated_codes_pass(code):
    assert is_valid_credit_code(code)


@settings(max_examples=300, deadline=None)
@given(valid_codes, st.integers(0, 17), st.characters(codec="ascii", categories=["L", "N", "P", "S"]))
def test_any_single_character_change_fails(code, pos, ch):
    if ch == code[pos]:
        ch = ALPHABET[(ALPHABET.index(code[pos]) + 1) % 31] if code[pos] in ALPHABET else "0"
    changed = code[:pos] + ch + code[pos + 1 :]
    assert changed != code
    assert not is_valid_credit_code(changed)
