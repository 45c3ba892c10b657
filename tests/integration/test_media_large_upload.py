"""A 256 MiB upload through the HTTP API keeps the service's memory bounded.

The media container runs in this test process (as ``running_services`` does), so the process's
peak resident set (VmHWM, reset through /proc/self/clear_refs) covers the service's handling of
the body: reading, hashing, spooling, checks and the multipart put to object storage. In a long
session the allocator may reuse memory freed by earlier tests (growth then reads near 0), so the
peak of Python allocations during the upload (tracemalloc) is reported and bounded as well. The client
streams the body from a generator (chunked), so it adds almost nothing.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from fixtures.media import hostile
from fixtures.media import service_support as ms
from platform_support import running_services

MiB = ms.MiB
SIZE = 256 * MiB
BLOCK = (b"0123456789abcdef" * 4096)  # 64 KiB of inert filler


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def large_pdf(total: int):
    """A well-formed PDF of exactly ``total`` bytes (catalog, empty page tree, one big stream, an
    xref table a parser reads from the end), made on the fly; yields (chunk) and its sha."""
    objects = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
               b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n")
    offsets = [9, objects.index(b"2 0 obj"), len(objects)]

    def header(length: int) -> bytes:
        return objects + b"3 0 obj\n<< /Length " + str(length).encode() + b" >>\nstream\n"

    def tail(stream_end: int) -> bytes:
        xref_at = stream_end + len(b"\nendstream\nendobj\n")
        rows = b"".join(b"%010d 00000 n \n" % o for o in offsets)
        return (b"\nendstream\nendobj\nxref\n0 4\n0000000000 65535 f \n" + rows
                + b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n" + str(xref_at).encode() + b"\n%%EOF\n")

    # the tail's length depends only on the digits of the xref offset: fix it from a first guess
    guess = len(tail(total))
    head = header(total - guess - len(header(total)))
    filler = total - len(head) - guess
    end = tail(len(head) + filler)
    assert len(head) + filler + len(end) == total
    digest = hashlib.sha256(head)

    def chunks():
        yield head
        left = filler
        while left:
            piece = BLOCK if left >= len(BLOCK) else BLOCK[:left]
            left -= len(piece)
            yield piece
        yield end

    for piece in chunks():
        if piece is not head:
            digest.update(piece)
    return chunks, digest.hexdigest()


@pytest.mark.timeout(240)
def test_a_256_mib_upload_grows_peak_memory_by_less_than_64_mib(settings):
    chunks, sha = large_pdf(SIZE)
    sub, token = ms.applicant(settings)
    with ms.media_env(), running_services(settings, "media") as urls:
        base = urls["media"]
        # warm up the route (imports, connection pools) so they do not count as growth
        warm = ms.upload(base, token, hostile.valid_pdf(), "document", "application/pdf")
        assert warm.status_code == 201, warm.text
        import tracemalloc

        tracemalloc.start()
        resettable = _reset_peak()
        rss_before = _status_kib("VmRSS")
        peak_before = _status_kib("VmHWM")
        started = time.monotonic()
        resp = ms.upload(base, token, chunks(), "document", "application/pdf", filename="large.pdf", timeout=200)
        elapsed = time.monotonic() - started
        peak_after = _status_kib("VmHWM")
        traced_peak_mib = tracemalloc.get_traced_memory()[1] / MiB
        tracemalloc.stop()
    assert resp.status_code == 201, resp.text
    assert resp.json()["size"] == SIZE and resp.json()["sha256"] == sha
    baseline = rss_before if resettable else peak_before
    growth_mib = (peak_after - baseline) / 1024
    print(
        f"\n256 MiB upload: peak RSS growth {growth_mib:.1f} MiB "
        f"(VmHWM {peak_after / 1024:.0f} MiB, RSS before {rss_before / 1024:.0f} MiB, peak reset: {resettable}), "
        f"Python allocations peak {traced_peak_mib:.1f} MiB; "
        f"{SIZE / MiB / elapsed:.0f} MiB/s through the service in {elapsed:.1f} s"
    )
    assert growth_mib < 64
    assert traced_peak_mib < 64
    db = ms.MediaDb(settings)
    try:
        rows = [r for r in db.evidence_of(sub) if r["size"] == SIZE]
        assert len(rows) == 1 and rows[0]["sha256"] == sha
    finally:
        db.close()
    keys = ms.bucket_keys(settings)
    assert rows[0]["object_key"] in keys[settings.s3_evidence_bucket]
    assert keys[settings.s3_quarantine_bucket] == set()
    # leave moto lighter for the rest of the session
    from gongyi.objectstore import make_object_client

    make_object_client(settings).remove_object(settings.s3_evidence_bucket, rows[0]["object_key"])
