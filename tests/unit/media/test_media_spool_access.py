"""The upload spool (bounded reads, limit + 1, temp file removed) and the access rule."""

from __future__ import annotations

import io
import os
import tempfile

import pytest
from media_support import hostile

from gongyi.errors import DomainError
from services.media.domain.access import Grant, Viewer, can_delete, can_read
from services.media.domain.limits import LimitedReader
from services.media.spool import SPOOL_PREFIX, IterableReader, spooled
from services.media.storage.objects import content_disposition


class CountingSource:
    """An endless source that records how many bytes were asked for and handed out."""

    def __init__(self) -> None:
        self.handed = 0
        self.largest_read = 0

    def read(self, size: int = -1) -> bytes:
        size = 1 << 20 if size is None or size < 0 else size
        self.largest_read = max(self.largest_read, size)
        self.handed += size
        return b"\0" * size


def _spools() -> set[str]:
    return {n for n in os.listdir(tempfile.gettempdir()) if n.startswith(SPOOL_PREFIX)}


def test_an_endless_body_is_read_to_limit_plus_one_byte_in_small_chunks():
    source = CountingSource()
    before = _spools()
    with pytest.raises(DomainError) as err:
        with spooled(source, limit=1_000_000, chunk_size=64 * 1024):
            pass
    assert err.value.code == "too_large" and err.value.status == 413
    assert source.handed == 1_000_001
    assert source.largest_read <= 64 * 1024
    assert _spools() == before, "the spool file is removed after a refusal"


def test_a_body_is_spooled_with_its_fingerprint_and_removed_afterwards():
    data = hostile.valid_jpeg()
    with spooled(io.BytesIO(data), limit=len(data), chunk_size=1000) as spool:
        assert open(spool.path, "rb").read() == data
        assert spool.size == len(data) and spool.fingerprint.head == data[: len(spool.fingerprint.head)]
        path = spool.path
    assert not os.path.exists(path)


def test_iterable_reader_serves_exact_sizes_across_chunks():
    reader = IterableReader(iter([b"abc", b"", b"defgh", b"i"]))
    assert reader.read(2) == b"ab" and reader.read(4) == b"c" and reader.read(4) == b"defg"
    assert reader.read(-1) == b"h" and reader.read(10) == b"i" and reader.read(1) == b""
    limited = LimitedReader(IterableReader(iter([b"x" * 10])), 9)
    with pytest.raises(DomainError):
        limited.read(100)


def test_content_disposition_is_an_attachment_with_a_safe_ascii_fallback():
    value = content_disposition('现场 "照片".jpg')
    assert value.startswith('attachment; filename="') and "\n" not in value
    assert "filename*=UTF-8''%E7%8E%B0" in value and '"照' not in value


GRANT = Grant("app-1", unit_code="cac-beijing", expert_ids=frozenset({"e1"}))


@pytest.mark.parametrize(
    "viewer,grants,public,expected",
    [
        (Viewer("applicant", "owner"), [], False, True),
        (Viewer("applicant", "someone"), [GRANT], False, False),
        (Viewer("staff", "s"), [], False, True),
        (Viewer("unit", "u", unit="cac-beijing"), [], False, False),  # not yet forwarded
        (Viewer("unit", "u", unit="cac-beijing"), [GRANT], False, True),
        (Viewer("unit", "u", unit="cac-shanghai"), [GRANT], False, False),
        (Viewer("expert", "x", expert="e1"), [GRANT], False, True),
        (Viewer("expert", "x", expert="e2"), [GRANT], False, False),
        (Viewer("unit", "u"), [GRANT], False, False),  # a unit token without a unit claim
        (None, [GRANT], False, False),
        (None, [Grant("app-1", published=True)], False, True),
        (None, [], True, True),
    ],
)
def test_who_may_read(viewer, grants, public, expected):
    assert can_read(viewer, "owner", public, grants) is expected


def test_only_owner_and_staff_may_delete():
    assert can_delete(Viewer("applicant", "owner"), "owner")
    assert can_delete(Viewer("staff", "s"), "owner")
    assert not can_delete(Viewer("applicant", "x"), "owner")
    assert not can_delete(Viewer("unit", "owner", unit="u"), "owner")
