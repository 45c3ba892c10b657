"""Helpers shared by the media tests: the hostile-file generator and spooling."""

from __future__ import annotations

from pathlib import Path

from fixtures.media import hostile

from services.media.domain.limits import Fingerprinter

__all__ = ["fingerprint", "hostile", "spool"]


def spool(tmp_path: Path, data: bytes, name: str = "upload.bin") -> Path:
    """Write bytes where the service would spool them (a temp file, never memory)."""
    path = tmp_path / name
    path.write_bytes(data)
    return path


def fingerprint(data: bytes, chunk: int = 7919) -> Fingerprinter:
    fp = Fingerprinter()
    for start in range(0, len(data), chunk):
        fp.update(data[start : start + chunk])
    return fp
