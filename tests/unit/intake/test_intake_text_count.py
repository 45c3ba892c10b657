from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from services.intake.domain.text_count import count_chars, count_total


def test_each_chinese_character_letter_digit_and_punctuation_counts_one():
    assert count_chars("网络公益，2024！OK") == 12


def test_whitespace_of_every_kind_is_free():
    assert count_chars(" 网络\t公益\r\n\u3000项目\u00a0") == 6


def test_invisible_format_characters_are_free():
    assert count_chars("\ufeff网络\u200b公益\u200d") == 4


def test_decomposed_text_counts_like_composed_text():
    composed = "café"
    decomposed = unicodedata.normalize("NFD", composed)
    assert len(decomposed) == 5
    assert count_chars(decomposed) == count_chars(composed) == 4


def test_characters_outside_the_bmp_count_one():
    assert count_chars("𠀀😀") == 2


def test_empty_and_none():
    assert count_chars("") == 0 and count_chars(None) == 0


def test_total_over_fields():
    assert count_total({"summary": "一二三", "innovation": "四 五"}) == (5, {"summary": 3, "innovation": 2})


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_fast_count_equals_the_rule_as_written(text):
    """count_chars takes a regex fast path; it must equal the documented rule char by char."""
    nfc = unicodedata.normalize("NFC", text)
    assert count_chars(text) == sum(1 for ch in nfc if not ch.isspace() and unicodedata.category(ch) != "Cf")
