"""64-bit perceptual hashes as 16-hex strings, their distance, and band keys for search.

A search engine cannot query "within Hamming distance d" directly. Splitting the 64 bits
into ``bands`` exact-match keys turns it into term lookups: if two hashes differ in fewer
than ``bands`` bits, some band holds none of the differing bits (pigeonhole), so the two
share at least that band key. The candidates are then ranked with ``hamming``.
"""

from __future__ import annotations

import re

import imagehash
from PIL import Image

PHASH_BITS = 64
_HEX16 = re.compile(r"[0-9a-f]{16}")


def _as_int(value: str) -> int:
    text = value.strip().lower()
    if not _HEX16.fullmatch(text):
        raise ValueError(f"expected a 16-hex-digit perceptual hash, got {value!r}")
    return int(text, 16)


def phash_hex(image: Image.Image) -> str:
    """ImageHash's DCT perceptual hash (8x8 -> 64 bits) of an already loaded image."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Hidden colour under transparent pixels must not steer the hash: flatten on white.
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        image = canvas
    return str(imagehash.phash(image.convert("RGB"), hash_size=8))


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two 16-hex perceptual hashes."""
    return (_as_int(a) ^ _as_int(b)).bit_count()


def phash_bands(value: str, bands: int = 4) -> list[str]:
    """Split the 64 bits into ``bands`` contiguous pieces, keyed ``"<index>_<hex>"``.

    The index keeps equal values in different positions apart. Bands need not divide 64:
    the first ``64 % bands`` pieces get one extra bit.
    """
    if not 1 <= bands <= PHASH_BITS:
        raise ValueError("bands must be between 1 and 64")
    number = _as_int(value)
    base, extra = divmod(PHASH_BITS, bands)
    keys: list[str] = []
    shift = PHASH_BITS
    for index in range(bands):
        width = base + (1 if index < extra else 0)
        shift -= width
        piece = (number >> shift) & ((1 << width) - 1)
        keys.append(f"{index}_{piece:0{(width + 3) // 4}x}")
    return keys
