"""Near-duplicate narratives: character shingles -> MinHash -> LSH band keys.

Why characters, not words: Chinese has no spaces and a segmenter would make signatures depend
on a dictionary version. Overlapping 3-character shingles over the folded text (punctuation and
spaces removed) survive reordered sentences and changed punctuation; a synonym swap only
disturbs the few shingles that overlap it.

The signature is 128 MinHash values (datasketch, scheme ``affine32``, seed 1). Its band keys
(32 bands x 4 rows) are plain strings ``"{band}:{hex}"`` that a search engine indexes as
keywords; a ``terms`` query on them returns the projects that share at least one band, which
for two texts of Jaccard J happens with probability 1 - (1 - J^4)^32 (0.87 at J=0.5, 0.99 at
J=0.6, 0.12 at J=0.25, 0.003 at J=0.1).

Signatures are lists of ints so they can be stored as JSON or a keyword/long array; anything
that changes how they are computed must change ``TEXT_SCHEME`` (stored alongside), because
signatures of different schemes cannot be compared.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence

import numpy as np
from datasketch import MinHash

from .chars import fold, strip_non_word

SHINGLE_SIZE = 3
NUM_PERM = 128
SEED = 1
BANDS = 32
ROWS = 4
TEXT_SCHEME = f"c{SHINGLE_SIZE}-mh{NUM_PERM}-s{SEED}-affine32-fmix64-b{BANDS}x{ROWS}"

_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_P1 = np.uint64(0x9E3779B97F4A7C15)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P3 = np.uint64(0x165667B19E3779F9)
_S33 = np.uint64(33)
_S32 = np.uint64(32)


def normalise_text(text: str | None) -> str:
    """Folded text (half-width, simplified, lower case) with only letters and digits left."""
    return strip_non_word(fold(text or ""))


def shingle_hashes(norm: str, k: int = SHINGLE_SIZE) -> np.ndarray:
    """Distinct 32-bit hashes of the k-character shingles of already normalised text.

    Vectorised: code points are mixed with odd multipliers and the murmur3 64-bit finaliser,
    so the value depends only on the shingle, on every platform and in every process (unlike
    Python's salted ``hash``). A text shorter than k gives one shingle, itself.
    """
    if not norm:
        return np.zeros(0, dtype=np.uint64)
    cps = np.frombuffer(norm.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    if len(cps) < k:
        cps = np.concatenate([cps, np.zeros(k - len(cps), dtype=np.uint64)])
    n = len(cps) - k + 1
    mults = (_P1, _P2, _P3)
    with np.errstate(over="ignore"):
        h = np.zeros(n, dtype=np.uint64)
        for i in range(k):
            h = (h ^ (cps[i : i + n] * mults[i % 3])) * _P1
        h ^= h >> _S33
        h *= _M1
        h ^= h >> _S33
        h *= _M2
        h ^= h >> _S33
    return np.unique(h >> _S32)


def _identity(x: int) -> int:
    return x


@functools.lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # Drawing the permutations costs ~0.7 ms; they depend only on (NUM_PERM, SEED, scheme).
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32").permutations


def minhash_signature(text: str | None) -> tuple[list[int], int]:
    """(signature of NUM_PERM ints, number of distinct shingles) for a narrative."""
    return minhash_of_normalised(normalise_text(text))


def minhash_of_normalised(norm: str) -> tuple[list[int], int]:
    """``minhash_signature`` for text already passed through ``normalise_text``."""
    hashes = shingle_hashes(norm)
    m = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=_identity, scheme="affine32", permutations=_permutations())
    if len(hashes):
        m.update_batch(hashes.tolist())
    return [int(v) for v in m.hashvalues], int(len(hashes))


def band_keys(signature: Sequence[int], bands: int = BANDS, rows: int = ROWS) -> list[str]:
    """LSH band keys ``"{band}:{hex}"``; two signatures share a key iff a whole band agrees.

    An empty text's signature (all values at the maximum) gets no keys, or every empty text
    would collide with every other.
    """
    if len(signature) < bands * rows:
        raise ValueError(f"signature has {len(signature)} values, need {bands * rows}")
    if is_empty_signature(signature):
        return []
    rows_arr = np.asarray(signature[: bands * rows], dtype="<u8").reshape(bands, rows)
    return [f"{b}:{hashlib.blake2b(rows_arr[b].tobytes(), digest_size=8).hexdigest()}" for b in range(bands)]


def is_empty_signature(signature: Sequence[int]) -> bool:
    return bool(signature) and min(signature) >= 0xFFFFFFFF


def estimated_jaccard(sig_a: Sequence[int], sig_b: Sequence[int]) -> float:
    """Share of positions where the signatures agree: an unbiased estimate of Jaccard."""
    if len(sig_a) != len(sig_b) or not sig_a:
        raise ValueError("signatures must be non-empty and of the same length")
    if is_empty_signature(sig_a) or is_empty_signature(sig_b):
        return 0.0
    a = np.asarray(sig_a, dtype=np.uint64)
    b = np.asarray(sig_b, dtype=np.uint64)
    return float(np.count_nonzero(a == b)) / len(a)


def estimated_containment(jaccard: float, size_a: int, size_b: int) -> float:
    """Share of the SMALLER shingle set found in the larger, from Jaccard and the set sizes.

    |A n B| = J (|A| + |B|) / (1 + J); dividing by min(|A|, |B|) gives containment. This is
    what catches an abbreviated version (a 300-character summary of a 1500-character text has
    Jaccard ~0.2 but containment ~1). Noisy when J is small, so callers weigh it only above
    a clear level.
    """
    small = min(size_a, size_b)
    if small <= 0 or jaccard <= 0:
        return 0.0
    inter = jaccard * (size_a + size_b) / (1.0 + jaccard)
    return min(1.0, inter / small)


def shingle_set(text: str | None, k: int = SHINGLE_SIZE) -> set[int]:
    return set(shingle_hashes(normalise_text(text), k).tolist())


def containment(short_text: str | None, long_text: str | None) -> float:
    """Exact share of ``short_text``'s shingles that occur in ``long_text`` (for staff views
    and tests; the detector uses ``estimated_containment`` on stored signals)."""
    a, b = shingle_set(short_text), shingle_set(long_text)
    if not a:
        return 0.0
    return len(a & b) / len(a)


def jaccard(text_a: str | None, text_b: str | None) -> float:
    """Exact Jaccard of the shingle sets (reference for the MinHash estimate)."""
    a, b = shingle_set(text_a), shingle_set(text_b)
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
