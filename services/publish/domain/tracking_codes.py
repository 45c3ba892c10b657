"""Short tracking codes the public can read aloud or type without confusion.

Crockford base32 leaves out I, L, O and U, so 0/O and 1/I/L cannot be mixed up; 10 symbols
give 50 bits of randomness from ``secrets`` (not guessable, so a code alone may show status).
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10

_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_tracking_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalise_tracking_code(text: str) -> str:
    """Undo what people do when retyping: lower case, hyphens, spaces, O for 0, I/L for 1."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -_")
    return cleaned.translate(_READ_AS)


def is_valid_tracking_code(text: str, length: int = CODE_LENGTH) -> bool:
    code = normalise_tracking_code(text)
    return len(code) == length and all(ch in ALPHABET for ch in code)


def format_tracking_code(code: str) -> str:
    """Display form, split in two halves: ``ABCDE-FGHJK``."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"
