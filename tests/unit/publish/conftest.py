"""Fixtures for the publish-domain tests (builders live in publish_support.py)."""

from __future__ import annotations

import pytest
from publish_support import CALL_NAME, at, make_entries

from services.publish.domain.notice import Notice


@pytest.fixture
def notice() -> Notice:
    return Notice.draft(
        "n-2024", "call-2024", CALL_NAME, make_entries(30), make_entries(2, start_rank=31, prefix="r")
    )


@pytest.fixture
def open_notice(notice: Notice) -> Notice:
    notice.open(at(2024, 2, 8, 10))
    return notice
