import random

from hypothesis import given, settings
from hypothesis import strategies as st

from services.review.domain.duplicates.evidence import (
    PHASH_LOOKUP_DISTANCE,
    hamming,
    matched_images,
    normalise_link,
    normalise_phash,
    phash_band_keys,
)
from services.review.domain.duplicates.facts import extract_facts, fact_overlap


def _flip(h: str, bits: list[int]) -> str:
    v = int(h, 16)
    for b in bits:
        v ^= 1 << b
    return f"{v:016x}"


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**64 - 1), st.sets(st.integers(0, 63), max_size=PHASH_LOOKUP_DISTANCE))
def test_duplicates_phash_bands_pigeonhole(value, bits):
    """Any two hashes within 3 bits share at least one band key."""
    a = f"{value:016x}"
    b = _flip(a, sorted(bits))
    assert hamming(a, b) == len(bits)
    assert set(phash_band_keys(a)) & set(phash_band_keys(b))


def test_duplicates_phash_bands_can_miss_beyond_guarantee():
    a = "0" * 16
    b = _flip(a, [0, 16, 32, 48])  # one bit in each band
    assert not set(phash_band_keys(a)) & set(phash_band_keys(b))


def test_duplicates_matched_images_is_one_to_one():
    rng = random.Random(1)
    base = [f"{rng.getrandbits(64):016x}" for _ in range(4)]
    reencoded = [_flip(h, [3, 40]) for h in base[:3]]
    assert matched_images(base, reencoded) == 3
    assert matched_images([base[0], base[0]], [base[0]]) == 1
    unrelated = [f"{rng.getrandbits(64):016x}" for _ in range(4)]
    assert matched_images(base, unrelated) == 0


def test_duplicates_phash_normalisation():
    assert normalise_phash("0xABCDEF0123456789") == "abcdef0123456789"
    assert normalise_phash("xyz") is None
    assert normalise_phash("abc") is None


def test_duplicates_link_normalisation():
    a = normalise_link("https://www.example.com/news/2023/1.html?utm_source=wx&id=3#top")
    b = normalise_link("http://m.example.com/news/2023/1.html/?id=3&from=timeline")
    assert a == b == "example.com/news/2023/1.html?id=3"
    wx1 = normalise_link("https://mp.weixin.qq.com/s?__biz=MzA&mid=22&idx=1&sn=abc&chksm=xx&scene=21#wechat_redirect")
    wx2 = normalise_link("http://mp.weixin.qq.com/s?sn=abc&idx=1&mid=22&__biz=MzA")
    assert wx1 == wx2
    assert normalise_link("https://example.com/news/2.html") != a
    assert normalise_link("") is None


def test_duplicates_facts_ignore_years_small_and_round_numbers():
    text = (
        "项目于2019年3月启动，2023-01-01上线，累计服务3.2万人，志愿者１２６名，"
        "募集580万元，覆盖5所学校，发放100件物资，12,800份问卷"
    )
    assert extract_facts(text) == ["126", "12800", "32000", "5800000"]
    # The same figure written differently is one fact.
    assert extract_facts("服务32000人次") == extract_facts("服务3.2万人次")
    assert fact_overlap(["1", "2"], ["2", "3"]) == 1 / 3
    assert fact_overlap([], ["2"]) == 0.0
