"""Asking the media service which evidence ids exist and whose they are (nameko RPC).

Intake never reads media's database. If media does not answer in time, or answers with an error,
the submission is refused with 503 ``evidence_check_unavailable``: evidence is never accepted
unchecked.
"""

from __future__ import annotations

import logging
from typing import Any

import eventlet

from gongyi.config import load_settings
from gongyi.errors import DomainError, Unavailable
from services.intake.handlers import EvidenceSummary

log = logging.getLogger(__name__)


def evidence_timeout() -> float:
    """Seconds to wait for media (GONGYI_INTAKE_EVIDENCE_TIMEOUT_S); read per call, not at start,
    so a running service follows a changed timeout (tests use a short one)."""
    return load_settings().intake_evidence_timeout_s


def _unavailable(reason: str) -> Unavailable:
    return Unavailable(
        "evidence_check_unavailable",
        "暂时无法核验辅证材料，申报未提交，请稍后重试",
        "The evidence cannot be checked right now; nothing was submitted, please retry later",
        {"reason": reason},
    )


def media_evidence_summary(media: Any, timeout: float | None = None) -> EvidenceSummary:
    """``media.evidence_summary`` through an RpcProxy, bounded by ``timeout`` seconds."""
    limit = evidence_timeout() if timeout is None else timeout

    def ask(ids: list[str]) -> dict[str, dict[str, Any]]:
        timer = eventlet.Timeout(limit)
        try:
            answer = media.evidence_summary(ids)
        except eventlet.Timeout as exc:
            if exc is not timer:
                raise
            log.warning("media did not answer evidence_summary within %.1f s", limit)
            raise _unavailable("timeout") from None
        except DomainError:
            raise
        except Exception as exc:  # noqa: BLE001 - unknown service, remote error, broker down: all refuse
            log.warning("evidence_summary failed: %s: %s", type(exc).__name__, exc)
            raise _unavailable(type(exc).__name__) from exc
        finally:
            timer.cancel()
        if not isinstance(answer, dict):
            raise _unavailable("malformed_answer")
        return {k: v for k, v in answer.items() if isinstance(v, dict)}

    return ask
