"""Stream an upload to a temporary file with bounded memory, hashing as it goes.

Reading goes through ``LimitedReader`` (stops at limit + 1 bytes) and ``Fingerprinter``
(SHA-256, size, head and tail windows), chunk by chunk; only one chunk is ever in memory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from services.media.domain.limits import Fingerprinter, LimitedReader, Readable

SPOOL_PREFIX = "gongyi-media-"


@dataclass
class Spooled:
    path: str
    fingerprint: Fingerprinter

    @property
    def size(self) -> int:
        return self.fingerprint.size


class IterableReader:
    """A ``read(n)`` view of an iterator of chunks (e.g. an object-store response stream)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""

    def read(self, size: int = -1, /) -> bytes:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return b""
        if size is None or size < 0 or size >= len(self._pending):
            data, self._pending = self._pending, b""
        else:
            data, self._pending = self._pending[:size], self._pending[size:]
        return data


@contextmanager
def spooled(source: Readable, limit: int, chunk_size: int = 64 * 1024) -> Iterator[Spooled]:
    """Copy ``source`` to a temp file under the system temp dir; the file is removed on exit."""
    reader = LimitedReader(source, limit)
    fingerprint = Fingerprinter()
    fd, path = tempfile.mkstemp(prefix=SPOOL_PREFIX, dir=tempfile.gettempdir())
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = reader.read(chunk_size)
                if not chunk:
                    break
                fingerprint.update(chunk)
                out.write(chunk)
        yield Spooled(path, fingerprint)
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
