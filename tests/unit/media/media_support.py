"""Helpers shared by the media tests: the hostile-file generator and spooling."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from services.media.domain.limits import Fingerprinter

HOSTILE_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "media" / "hostile.py"
SERVICE_SUPPORT_PATH = HOSTILE_PATH.with_name("service_support.py")


def _load(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def load_hostile() -> ModuleType:
    return _load("media_hostile", HOSTILE_PATH)


def load_service_support() -> ModuleType:
    """Integration-test helpers (running media, uploads, bucket and table views)."""
    return _load("media_service_support", SERVICE_SUPPORT_PATH)


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
