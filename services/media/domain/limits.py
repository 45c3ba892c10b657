"""Size limits and bounded streaming: read at most limit + 1 bytes, hash as we go.

The upload is streamed from the client to a spool file and MinIO; nothing here ever holds
the whole body. ``LimitedReader`` stops the moment the body is one byte over its limit,
and ``Fingerprinter`` keeps only a SHA-256 state, a byte count and two small windows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from .refusals import refuse
from .sniff import HEAD_SIZE, TAIL_SIZE, Kind

MiB = 1024 * 1024
GiB = 1024 * MiB
DEFAULT_CHUNK = 64 * 1024


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class SizeLimits:
    """Per-kind upper bounds in bytes; a call may configure its own."""

    image: int = 20 * MiB
    video: int = 1 * GiB
    document: int = 50 * MiB

    def __post_init__(self) -> None:
        for name in ("image", "video", "document"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} limit must be positive")

    def for_kind(self, kind: Kind | str) -> int:
        return int(getattr(self, Kind(kind).value))

    @property
    def largest(self) -> int:
        """The bound to apply before the kind is known (while reading the head)."""
        return max(self.image, self.video, self.document)


def _too_large(limit: int) -> None:
    refuse("too_large", limit_bytes=limit)


class LimitedReader:
    """A file-like wrapper that refuses (``too_large``) once more than ``limit`` bytes arrive.

    It asks the source for no more than ``limit + 1 - consumed`` bytes, so the source is
    never read past the one byte that proves the body is too large.
    """

    def __init__(self, source: Readable, limit: int) -> None:
        if limit < 0:
            raise ValueError("limit must be >= 0")
        self._source = source
        self._limit = limit
        self.consumed = 0

    @property
    def limit(self) -> int:
        return self._limit

    def tighten(self, limit: int) -> None:
        """Lower the limit once the kind is known; refuses at once if already past it."""
        self._limit = min(self._limit, limit)
        if self.consumed > self._limit:
            _too_large(self._limit)

    def read(self, size: int = -1, /) -> bytes:
        allowance = self._limit + 1 - self.consumed
        if allowance <= 0:
            _too_large(self._limit)
        want = allowance if size is None or size < 0 else min(size, allowance)
        if want == 0:
            return b""
        data = self._source.read(want)
        if len(data) > want:  # a misbehaving source; never trust it with our budget
            data = data[:want]
        self.consumed += len(data)
        if self.consumed > self._limit:
            _too_large(self._limit)
        return data


def limited_chunks(source: Readable, limit: int, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
    """Yield the source's bytes in chunks of at most ``chunk_size``; refuse past ``limit``.

    Short reads are fine (sockets return what they have); only an empty read ends.
    """
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    reader = LimitedReader(source, limit)
    while True:
        chunk = reader.read(chunk_size)
        if not chunk:
            return
        yield chunk


class Fingerprinter:
    """Fed chunk by chunk: SHA-256, size, the first ``head_size`` bytes, the last bytes.

    Memory stays below ``head_size + 2 * tail_size`` whatever the file's size. ``tail``
    never includes the byte at offset 0, so a small file's own magic is not mistaken for
    a second format when the sniffer scans the tail.
    """

    def __init__(self, head_size: int = HEAD_SIZE, tail_size: int = TAIL_SIZE) -> None:
        self._sha = hashlib.sha256()
        self._head = bytearray()
        self._tail = bytearray()
        self._head_size = head_size
        self._tail_size = tail_size
        self.size = 0

    def update(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._sha.update(chunk)
        if len(self._head) < self._head_size:
            self._head += chunk[: self._head_size - len(self._head)]
        body = chunk[1:] if self.size == 0 else chunk
        self.size += len(chunk)
        if self._tail_size:
            self._tail += body[-self._tail_size :]
            # Trim lazily: amortised O(1) per byte while bounding memory at 2 x tail_size.
            if len(self._tail) > 2 * self._tail_size:
                del self._tail[: len(self._tail) - self._tail_size]

    def feed(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Pass chunks through (to the spool file / object store) while fingerprinting."""
        for chunk in chunks:
            self.update(chunk)
            yield chunk

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    @property
    def head(self) -> bytes:
        return bytes(self._head)

    @property
    def tail(self) -> bytes:
        return bytes(self._tail[-self._tail_size :]) if self._tail_size else b""
