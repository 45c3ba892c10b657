"""Helpers shared by the media tests: the hostile-file generator and spooling."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from services.media.domain.limits import Fingerprinter

HOSTILE_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "media" / "hostile.py"


def load_hostile() -> ModuleType:
    if "media_hostile" in sys.modules:
        return sys.modules["media_hostile"]
    spec = importlib.util.spec_from_file_location("media_hostile", HOSTILE_PATH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["media_hostile"] = module
    spec.loader.exec_module(module)
    return module


hostile = load_hostile()


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
