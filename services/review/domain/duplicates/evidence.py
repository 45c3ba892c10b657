"""Evidence that two applications show the same things: files, photos, media reports.

- sha256: the same file uploaded twice (the media service computes it on upload).
- pHash: the same photo re-encoded, resized or recompressed. 64-bit perceptual hashes as 16 hex
  digits (ImageHash ``phash``); two hashes within ``PHASH_MATCH_DISTANCE`` bits count as one
  photo. Unrelated photos differ in ~32 bits (binomial, sd 4), so 6 bits by chance is
  vanishingly rare for random images, while recompression and resizing move 0-4 bits.
- Candidate lookup splits each hash into ``PHASH_BANDS`` bands of 16 bits and indexes each
  band as a keyword: by the pigeonhole principle two hashes within 3 bits agree exactly on
  at least one of the 4 bands, so the engine finds them with a terms query. Pairs 4-6 bits
  apart are usually found too (and through the other channels), but not guaranteed.
- Media-report links: one news report is about one project; the same article shared with
  different tracking parameters, schemes or mobile hosts is the same link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit

PHASH_BITS = 64
PHASH_BANDS = 4
PHASH_LOOKUP_DISTANCE = PHASH_BANDS - 1  # guaranteed by the pigeonhole principle
PHASH_MATCH_DISTANCE = 6

_HEX_RE = re.compile(r"^[0-9a-f]{16}$")
# Query parameters that identify the sharer or the campaign, never the article.
_TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|spm|from|share\w*|scene|srcid|isappinstalled|timestamp|ts|wxshare\w*|"
    r"clicktime|enterid|sessionid|chksm|mpshare|wfr|_wv|fbclid|gclid|source|src)$"
)
# WeChat articles are identified by these parameters only.
_WECHAT_KEEP = {"__biz", "mid", "idx", "sn"}


def normalise_phash(value: str | None) -> str | None:
    """16 lower-case hex digits, or None for anything that is not a 64-bit hash."""
    if not value:
        return None
    v = value.strip().lower().removeprefix("0x")
    return v if _HEX_RE.match(v) else None


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two 64-bit hex hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def phash_band_keys(phash: str, bands: int = PHASH_BANDS) -> list[str]:
    """``"{band}:{hex}"`` for each of ``bands`` equal slices of the hash."""
    width = 16 // bands
    return [f"{i}:{phash[i * width : (i + 1) * width]}" for i in range(bands)]


def matched_images(
    phashes_a: Sequence[str], phashes_b: Sequence[str], max_distance: int = PHASH_MATCH_DISTANCE
) -> int:
    """How many photos of A have a distinct near-identical partner in B (greedy, closest first),
    so one photo shown twice in A does not count twice."""
    pairs = []
    for i, a in enumerate(phashes_a):
        ia = int(a, 16)
        for j, b in enumerate(phashes_b):
            d = (ia ^ int(b, 16)).bit_count()
            if d <= max_distance:
                pairs.append((d, i, j))
    pairs.sort()
    used_a: set[int] = set()
    used_b: set[int] = set()
    for _, i, j in pairs:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
    return len(used_a)


def shared_count(a: Iterable[str], b: Iterable[str]) -> int:
    return len(set(a) & set(b))


def normalise_link(url: str | None) -> str | None:
    """A media-report link reduced to what identifies the article.

    Drops scheme, ``www.``/``m.``/``wap.`` host prefixes, default ports, fragments, tracking
    parameters and a trailing slash; sorts the remaining parameters; lower-cases the host. For
    mp.weixin.qq.com keeps only the article identifiers (or the /s/<id> path).
    """
    if not url:
        return None
    raw = url.strip()
    if "://" not in raw:
        raw = "http://" + raw
    try:
        parts = urlsplit(raw)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not host:
        return None
    for prefix in ("www.", "m.", "wap.", "3g."):
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    path = re.sub(r"/{2,}", "/", parts.path or "").rstrip("/")
    params = parse_qsl(parts.query, keep_blank_values=False)
    if host == "mp.weixin.qq.com":
        params = [(k, v) for k, v in params if k in _WECHAT_KEEP]
    else:
        params = [(k, v) for k, v in params if not _TRACKING_PARAMS.match(k.lower())]
    query = urlencode(sorted(params))
    return f"{host}{path}" + (f"?{query}" if query else "")
