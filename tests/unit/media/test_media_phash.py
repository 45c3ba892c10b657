import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.media.domain.phash import hamming, phash_bands

hashes = st.integers(0, 2**64 - 1).map(lambda n: f"{n:016x}")


def test_hamming_counts_differing_bits():
    assert hamming("0000000000000000", "0000000000000000") == 0
    assert hamming("0000000000000000", "ffffffffffffffff") == 64
    assert hamming("8000000000000001", "0000000000000000") == 2
    assert hamming("ABCDEF0123456789", "abcdef0123456789") == 0


@pytest.mark.parametrize("bad", ["", "123", "g" * 16, "0" * 17, "0x00000000000000"])
def test_malformed_hashes_are_rejected(bad):
    with pytest.raises(ValueError):
        hamming(bad, "0" * 16)
    with pytest.raises(ValueError):
        phash_bands(bad)


def test_bands_are_positioned_hex_pieces():
    assert phash_bands("0123456789abcdef") == ["0_0123", "1_4567", "2_89ab", "3_cdef"]
    assert phash_bands("0123456789abcdef", 2) == ["0_01234567", "1_89abcdef"]
    # Equal pieces in different positions must not collide as search terms.
    assert len(set(phash_bands("abcdabcdabcdabcd"))) == 4
    with pytest.raises(ValueError):
        phash_bands("0" * 16, 0)


@settings(max_examples=150, deadline=None)
@given(value=hashes, bands=st.integers(1, 64))
def test_bands_cover_all_64_bits(value, bands):
    keys = phash_bands(value, bands)
    assert len(keys) == bands
    # Flipping any single bit changes exactly one band.
    for bit in (0, 31, 63):
        flipped = f"{int(value, 16) ^ (1 << bit):016x}"
        assert sum(a != b for a, b in zip(keys, phash_bands(flipped, bands), strict=True)) == 1


@settings(max_examples=150, deadline=None)
@given(value=hashes, bands=st.sampled_from([2, 4, 5, 8, 16]), data=st.data())
def test_pigeonhole_hashes_closer_than_bands_share_a_band(value, bands, data):
    distance = data.draw(st.integers(0, bands - 1))
    bits = data.draw(st.lists(st.integers(0, 63), min_size=distance, max_size=distance, unique=True))
    mask = sum(1 << b for b in bits)
    other = f"{int(value, 16) ^ mask:016x}"
    assert hamming(value, other) == distance
    assert set(phash_bands(value, bands)) & set(phash_bands(other, bands))


def test_at_distance_equal_to_bands_sharing_is_not_guaranteed():
    # One differing bit per band: no band in common, which is why the search layer must
    # use more bands than the distance it wants to find.
    value = "0000000000000000"
    other = "8000800080008000"
    assert hamming(value, other) == 4
    assert not set(phash_bands(value, 4)) & set(phash_bands(other, 4))
