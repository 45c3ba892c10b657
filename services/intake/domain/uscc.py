"""Unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters: [1] registration authority, [2] organisation kind, [3-8] administrative area,
[9-17] the organisation code (GB 11714, its own check character at 17), [18] check character.
The alphabet is 0-9 and A-Z without I, O, Z, S, V (they look like 1, 0, 2, 5, U).
"""

from __future__ import annotations

from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# Position i (0-based) weighs 3**i mod 31.
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# First character: the registration authority (1 机构编制, 5 民政, 9 工商/市场监管, Y 其他 ...).
AUTHORITIES = frozenset("123456789ANY")

# GB 11714 organisation code: 8 body characters then a check character.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class CreditCodeProblem:
    reason: str  # length | charset | authority | org_check_digit | check_digit
    message_zh: str
    message_en: str


def check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def _org_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def org_check_char(body8: str) -> str:
    """The GB 11714 check character for an 8-character organisation code body."""
    total = sum(_org_value(ch) * w for ch, w in zip(body8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def credit_code_problem(code: str) -> CreditCodeProblem | None:
    """None when ``code`` is a well-formed credit code, else the first problem found."""
    if len(code) != 18:
        return CreditCodeProblem(
            "length",
            f"统一社会信用代码应为18位，当前为{len(code)}位",
            f"A unified social credit code has 18 characters, not {len(code)}",
        )
    bad = sorted({ch for ch in code if ch not in _VALUE})
    if bad:
        return CreditCodeProblem(
            "charset",
            f"统一社会信用代码含有不允许的字符：{''.join(bad)}（只能是数字和除I、O、Z、S、V外的大写字母）",
            f"Characters not allowed: {''.join(bad)} (digits and upper-case letters except I, O, Z, S, V)",
        )
    if code[0] not in AUTHORITIES:
        return CreditCodeProblem(
            "authority",
            f"统一社会信用代码第1位（登记管理部门代码）不正确：{code[0]}",
            f"The first character (registration authority) is not valid: {code[0]}",
        )
    if org_check_char(code[8:16]) != code[16]:
        return CreditCodeProblem(
            "org_check_digit",
            "统一社会信用代码第9至17位（组织机构代码）校验位不正确",
            "The organisation code in positions 9-17 has a wrong check character",
        )
    if check_char(code[:17]) != code[17]:
        return CreditCodeProblem(
            "check_digit",
            "统一社会信用代码校验位（第18位）不正确，请核对",
            "The check character (position 18) does not match; please check the code",
        )
    return None


def is_valid_credit_code(code: str) -> bool:
    return credit_code_problem(code) is None


# -- sample codes for trying the platform out (never a real organisation's, except by chance)

# Common first two characters (registration authority + organisation kind), GB 32100-2015 annex.
KINDS: dict[str, str] = {
    "11": "机构编制 · 机关",
    "12": "机构编制 · 事业单位",
    "51": "民政 · 社会团体",
    "52": "民政 · 民办非企业单位（社会服务机构）",
    "53": "民政 · 基金会",
    "91": "工商 · 企业",
    "92": "工商 · 个体工商户",
    "93": "工商 · 农民专业合作社",
}
# A likely kind for each applicant type of the shipped calls.
KIND_FOR_APPLICANT_TYPE: dict[str, str] = {
    "government": "11",
    "social_organisation": "53",
    "enterprise_institution": "91",
    "news_media": "12",
    "commercial_platform": "91",
}


def _prefix_problem(prefix: str, region: str) -> str | None:
    if len(prefix) != 2 or prefix[0] not in AUTHORITIES or prefix[1] not in _VALUE:
        return (f"prefix {prefix!r}: two characters, a registration authority ({''.join(sorted(AUTHORITIES))}) "
                f"then an organisation kind from the code alphabet")
    if len(region) != 6 or not region.isdigit():
        return f"region {region!r}: six digits (GB/T 2260 administrative area, e.g. 110108)"
    return None


def make_credit_code(prefix: str, region: str, body: str) -> str:
    """A well-formed code from its parts: both check characters computed."""
    problem = _prefix_problem(prefix, region)
    if problem or len(body) != 8 or any(ch not in _VALUE for ch in body):
        raise ValueError(problem or f"body {body!r}: eight characters of the code alphabet")
    first17 = prefix + region + body + org_check_char(body)
    return first17 + check_char(first17)


def sample_credit_codes(count: int, prefix: str = "53", region: str = "110108", seed: int | None = None) -> list[str]:
    """``count`` distinct well-formed codes with the given kind prefix and region; the same seed
    gives the same codes. For trying the platform out: a sample may by chance be a real code."""
    import random

    problem = _prefix_problem(prefix, region)
    if problem:
        raise ValueError(problem)
    if not 1 <= count <= 10_000:
        raise ValueError("count: 1 to 10000")
    rng = random.Random(seed)
    codes: dict[str, None] = {}
    while len(codes) < count:
        codes[make_credit_code(prefix, region, "".join(rng.choice(ALPHABET) for _ in range(8)))] = None
    return list(codes)
