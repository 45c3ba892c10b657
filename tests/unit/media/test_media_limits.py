import hashlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongyi.errors import PayloadTooLarge
from services.media.domain.limits import Fingerprinter, GiB, LimitedReader, MiB, SizeLimits, limited_chunks


class CountingSource:
    """A socket-like source: short reads, and it records every byte handed out."""

    def __init__(self, data: bytes, max_read: int) -> None:
        self._data = io.BytesIO(data)
        self._max_read = max_read
        self.handed_out = 0

    def read(self, size: int = -1) -> bytes:
        size = self._max_read if size is None or size < 0 else min(size, self._max_read)
        chunk = self._data.read(size)
        self.handed_out += len(chunk)
        return chunk


def test_default_limits_per_kind():
    limits = SizeLimits()
    assert (limits.for_kind("image"), limits.for_kind("video"), limits.for_kind("document")) == (
        20 * MiB,
        1 * GiB,
        50 * MiB,
    )
    assert limits.largest == 1 * GiB
    assert SizeLimits(image=10).for_kind("image") == 10
    with pytest.raises(ValueError):
        SizeLimits(video=0)


@settings(max_examples=150, deadline=None)
@given(
    size=st.integers(0, 3000),
    limit=st.integers(0, 3000),
    chunk_size=st.integers(1, 700),
    max_read=st.integers(1, 900),
)
def test_limited_chunks_never_reads_more_than_limit_plus_one(size, limit, chunk_size, max_read):
    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]
    source = CountingSource(data, max_read)
    received = bytearray()
    if size > limit:
        with pytest.raises(PayloadTooLarge) as info:
            for chunk in limited_chunks(source, limit, chunk_size):
                assert len(chunk) <= chunk_size
                received += chunk
        assert info.value.code == "too_large"
        assert info.value.details == {"limit_bytes": limit}
        assert source.handed_out == limit + 1
        assert len(received) <= limit
    else:
        for chunk in limited_chunks(source, limit, chunk_size):
            assert 0 < len(chunk) <= chunk_size
            received += chunk
        assert bytes(received) == data
        assert source.handed_out == size


def test_exactly_the_limit_is_accepted():
    assert b"".join(limited_chunks(io.BytesIO(b"x" * 10), 10, 3)) == b"x" * 10


def test_reader_read_all_is_bounded_too():
    source = CountingSource(b"y" * 5000, 10_000)
    with pytest.raises(PayloadTooLarge):
        LimitedReader(source, 100).read()
    assert source.handed_out == 101


def test_reader_refuses_again_after_refusal_without_reading():
    source = CountingSource(b"z" * 50, 50)
    reader = LimitedReader(source, 10)
    with pytest.raises(PayloadTooLarge):
        reader.read(50)
    with pytest.raises(PayloadTooLarge):
        reader.read(1)
    assert source.handed_out == 11


def test_tighten_applies_the_kind_limit_once_known():
    reader = LimitedReader(io.BytesIO(b"a" * 100), limit=1000)
    assert reader.read(40) == b"a" * 40
    reader.tighten(50)
    assert reader.limit == 50
    assert reader.read(10) == b"a" * 10
    with pytest.raises(PayloadTooLarge):
        reader.read(10)
    already_past = LimitedReader(io.BytesIO(b"b" * 100), limit=1000)
    already_past.read(60)
    with pytest.raises(PayloadTooLarge):
        already_past.tighten(50)


def test_a_source_returning_more_than_asked_is_cut():
    class Greedy:
        def read(self, size: int = -1) -> bytes:
            return b"g" * 1000

    reader = LimitedReader(Greedy(), 5)
    assert reader.read(3) == b"ggg"
    with pytest.raises(PayloadTooLarge):
        reader.read(100)
    assert reader.consumed == 6


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=5000), cuts=st.lists(st.integers(0, 5000), max_size=12))
def test_fingerprinter_matches_hashlib_however_chunked(data, cuts):
    fp = Fingerprinter(head_size=100, tail_size=64)
    bounds = sorted({0, len(data), *[c for c in cuts if c <= len(data)]})
    for start, end in zip(bounds, bounds[1:], strict=False):
        fp.update(data[start:end])
    assert fp.sha256 == hashlib.sha256(data).hexdigest()
    assert fp.size == len(data)
    assert fp.head == data[:100]
    assert fp.tail == data[1:][-64:]


def test_fingerprinter_memory_is_bounded_whatever_the_size():
    fp = Fingerprinter(head_size=1024, tail_size=2048)
    block = bytes(range(256)) * 256  # 64 KiB
    whole = hashlib.sha256()
    for _ in range(160):  # 10 MiB
        fp.update(block)
        whole.update(block)
        assert len(fp._head) <= 1024 and len(fp._tail) <= 2 * 2048
    assert fp.size == 160 * len(block)
    assert fp.sha256 == whole.hexdigest()
    assert fp.tail == block[-2048:]


def test_feed_passes_chunks_through_unchanged():
    fp = Fingerprinter()
    chunks = [b"ab", b"", b"cde"]
    assert list(fp.feed(chunks)) == chunks
    assert fp.sha256 == hashlib.sha256(b"abcde").hexdigest()
