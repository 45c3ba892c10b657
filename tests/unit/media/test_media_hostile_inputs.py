"""Every generated hostile upload, end to end through the domain, answers its code."""

import re

import pytest
from media_support import fingerprint, hostile, spool

from gongyi.errors import DomainError
from services.media.domain.limits import SizeLimits
from services.media.domain.policy import EvidencePolicy, inspect_spooled
from services.media.domain.refusals import CATALOGUE, refusal
from services.media.domain.sniff import Kind

CASES = hostile.cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_upload_is_refused_with_its_code(tmp_path, case):
    data = case.make()
    with pytest.raises(DomainError) as info:
        inspect_spooled(spool(tmp_path, data), fingerprint(data), declared_mime=case.declared_mime)
    assert info.value.code == case.code, info.value.details


@pytest.mark.parametrize(
    ("make", "mime"),
    [
        (hostile.valid_jpeg, "image/jpeg"),
        (hostile.valid_pdf, "application/pdf"),
        (lambda: hostile.valid_webm(frames=3), "video/webm"),
    ],
)
def test_valid_uploads_pass_the_whole_inspection(tmp_path, make, mime):
    data = make()
    result = inspect_spooled(spool(tmp_path, data), fingerprint(data), declared_mime=mime)
    assert result.fingerprint.mime == mime
    assert result.fingerprint.size == len(data)
    assert result.warnings == []


def test_kind_limit_is_applied_after_sniffing(tmp_path):
    data = hostile.valid_jpeg()
    policy = EvidencePolicy(limits=SizeLimits(image=len(data) - 1))
    with pytest.raises(DomainError) as info:
        inspect_spooled(spool(tmp_path, data), fingerprint(data), policy)
    assert (info.value.code, info.value.status) == ("too_large", 413)


def test_warnings_are_passed_on(tmp_path):
    data = hostile.valid_jpeg(640, 480)
    result = inspect_spooled(spool(tmp_path, data), fingerprint(data), declared_kind="image")
    assert result.sniffed.kind is Kind.IMAGE
    assert [w.code for w in result.warnings] == ["low_resolution"]


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_refusal_is_bilingual_and_snake_case(code):
    error = refusal(code)
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", error.code)
    assert re.search(r"[\u4e00-\u9fff]", error.message_zh)
    assert re.fullmatch(r"[ -~]+", error.message_en)
    assert 400 <= error.status < 500 or (code.endswith("_unavailable") and error.status == 503)
