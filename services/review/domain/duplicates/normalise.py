"""Normalised organisation and project names, and how alike two names are.

The same body appears as 某某科技有限公司 on one form and 某某科技有限責任公司 on another;
the same project as 《2023年"互联网+"乡村振兴直播助农行动》 and 乡村振兴直播助农项目. We
reduce both to a comparable core. The core is used as an exact-match lookup key and as input
to ``name_similarity``.
"""

from __future__ import annotations

import functools
import re

from rapidfuzz import fuzz

from .chars import fold, strip_non_word

# Longest first so 股份有限公司 is removed whole, not as 有限公司 leaving 股份.
ORG_SUFFIXES: tuple[str, ...] = (
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "集团公司",
    "分公司",
    "公司",
    "基金会",
)

# Provincial-level divisions, full names first; the short names follow.
PROVINCES_FULL: tuple[str, ...] = (
    "北京市",
    "天津市",
    "上海市",
    "重庆市",
    "河北省",
    "山西省",
    "辽宁省",
    "吉林省",
    "黑龙江省",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "海南省",
    "四川省",
    "贵州省",
    "云南省",
    "陕西省",
    "甘肃省",
    "青海省",
    "台湾省",
    "内蒙古自治区",
    "广西壮族自治区",
    "西藏自治区",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "香港特别行政区",
    "澳门特别行政区",
)
PROVINCES_SHORT: tuple[str, ...] = (
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
    "内蒙古",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
)
_PROVINCE_PREFIXES = tuple(sorted(PROVINCES_FULL + PROVINCES_SHORT, key=len, reverse=True))

# Words applicants wrap around a project's real name. Only stripped at the edges: inside a
# name they may carry meaning (e.g. 网络公益 in 网络公益讲师团).
NAME_PREFIXES: tuple[str, ...] = ("互联网+", "互联网十", "网络公益", "互联网", "公益")
NAME_SUFFIXES: tuple[str, ...] = (
    "公益项目",
    "专项行动",
    "公益行动",
    "公益计划",
    "项目",
    "行动",
    "计划",
    "工程",
    "活动",
    "专项",
)

# 2023年, 2024年度, 2023-2024年, and a bare 2024 glued to the name.
_YEAR_RE = re.compile(r"(?:19|20)\d{2}(?:\s*[-~—至到]\s*(?:19|20)?\d{2})?\s*(?:年度|年)?")
_QUOTES_RE = re.compile(r"[《》〈〉「」『』“”‘’\"'【】]")


def normalise_credit_code(code: str | None) -> str | None:
    """统一社会信用代码: 18 characters, upper case, no spaces; anything else is treated as absent."""
    if not code:
        return None
    folded = strip_non_word(fold(code)).upper()
    return folded if len(folded) == 18 else None


def strip_province(name: str) -> str:
    """Drop one leading province name (河南省 / 河南 / 广西壮族自治区...) if something is left."""
    for p in _PROVINCE_PREFIXES:
        if name.startswith(p) and len(name) > len(p) + 1:
            return name[len(p) :]
    return name


def normalise_org(name: str | None, *, drop_province: bool = False) -> str:
    """Organisation name -> comparable core.

    Width, script, case, spaces and punctuation (brackets included, their content kept) go;
    legal-form suffixes go, repeatedly (某某集团有限公司 -> 某某). ``drop_province`` also drops a
    leading province, for matching 河南省某某基金会 with 某某基金会.
    """
    if not name:
        return ""
    core = strip_non_word(fold(name))
    changed = True
    while changed:
        changed = False
        for suffix in ORG_SUFFIXES:
            if core.endswith(suffix) and len(core) > len(suffix) + 1:
                core = core[: -len(suffix)]
                changed = True
                break
    if drop_province:
        core = strip_province(core)
    return core


def normalise_project_name(name: str | None) -> str:
    """Project name -> comparable core.

    Removes quotes and book-title marks, years (2023年, 2023-2024年度), punctuation, and
    boilerplate at the edges (互联网+, 网络公益, 项目, 行动, 计划...). If stripping would leave
    fewer than two characters the unstripped form is kept, so 公益行动 does not become empty.
    """
    if not name:
        return ""
    text = _QUOTES_RE.sub("", fold(name))
    text = _YEAR_RE.sub("", text)
    # '+' is a symbol and would be lost by strip_non_word; keep it for the 互联网+ prefix.
    text = "".join(c for c in text if c == "+" or strip_non_word(c))
    full = text.replace("+", "")
    changed = True
    while changed:
        changed = False
        for p in NAME_PREFIXES:
            if text.startswith(p) and len(text) - len(p) >= 2:
                text = text[len(p) :]
                changed = True
        for s in NAME_SUFFIXES:
            if text.endswith(s) and len(text) - len(s) >= 2:
                text = text[: -len(s)]
                changed = True
    # A '+' left inside a name is read 加 (互+计划 = 互加计划); the 互联网+ prefix is gone by now.
    text = text.replace("+", "加")
    return text if len(text) >= 2 else full


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def name_similarity(a: str, b: str) -> float:
    """Similarity in [0, 1] of two NORMALISED names.

    Chinese names have no spaces, so rapidfuzz's token_* scorers see one token each and add
    nothing. We take the best of three views:
    - ``fuzz.ratio``: edit similarity, for small edits (乡村振兴直播助农 / 乡村振兴直播助农计划);
    - ``fuzz.partial_ratio``: one name inside the other (兰考县直播助农 / 直播助农), discounted
      to 0.9 and only when the shorter name has >= 4 characters and >= half the longer one's
      length, so a short generic core (助学) does not match everything;
    - Dice over character bigrams: order-insensitive, for reordered parts
      (直播助农乡村振兴 / 乡村振兴直播助农).
    """
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    best = fuzz.ratio(a, b) / 100.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 4 and len(short) * 2 >= len(long_):
        best = max(best, 0.9 * fuzz.partial_ratio(short, long_) / 100.0)
    ba, bb = _bigrams(a), _bigrams(b)
    dice = 2.0 * len(ba & bb) / (len(ba) + len(bb))
    return round(max(best, dice), 4)


# Where one field names several things: 中国扶贫基金会、百胜餐饮集团 (partners), 团圆系统(公安部儿童
# 失踪信息紧急发布平台) (a name and its official long form), 魔豆妈妈/永不打烊的网店.
_ALT_SPLIT_RE = re.compile(r"[、,，;；/|&＆]|[（(\[【]|[)）\]】]")


def name_parts(raw: str | None) -> list[str]:
    """The parts of a raw name field (split at 、 / ( ) and the like), with the whole first."""
    if not raw:
        return []
    parts = [raw] + [p for p in _ALT_SPLIT_RE.split(fold(raw)) if p and p.strip()]
    return parts


def project_name_alternatives(raw: str | None) -> list[str]:
    """Normalised whole name and each part of at least two characters, distinct, whole first."""
    out: list[str] = []
    for p in name_parts(raw):
        n = normalise_project_name(p)
        if len(n) >= 2 and n not in out:
            out.append(n)
    return out


def org_alternatives(raw: str | None) -> list[str]:
    """Province-less cores of the whole organisation field and of each named organisation in it
    (原中国扶贫基金会 -> 中国扶贫基金会 too)."""
    out: list[str] = []
    for p in name_parts(raw):
        p = p.strip()
        if p.startswith("原"):
            p = p[1:]
        n = normalise_org(p, drop_province=True)
        if len(n) >= 2 and n not in out:
            out.append(n)
    return out


def best_similarity(a: list[str], b: list[str]) -> float:
    """The best ``name_similarity`` over the alternatives of two names."""
    return max((name_similarity(x, y) for x in a for y in b), default=0.0)


# Words a project name is wrapped in, wherever they stand (NAME_SUFFIXES above only strips
# them at the edges): the name's core is what is left.
NAME_GENERIC_PARTS = (
    "公益项目", "互联网", "公益", "项目", "计划", "行动", "工程", "活动", "专项", "基金会", "基金", "公募",
    "平台", "系统", "中国", "团队", "网络",
)
MIN_ORG_PART = 3


@functools.lru_cache(maxsize=8192)
def _longest_common(a: str, b: str) -> str:
    """Longest common substring (names and organisations are short: ~20 characters)."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    for size in range(len(short), 0, -1):
        for i in range(len(short) - size + 1):
            if short[i : i + size] in long_:
                return short[i : i + size]
    return ""


@functools.lru_cache(maxsize=4096)
def name_core(name: str, orgs: tuple[str, ...]) -> str:
    """A normalised project name without the organisations' names and the generic words:
    壹基金温暖包 (org 深圳壹基金公益) -> 温暖包, 免费午餐基金 -> 免费午餐, 中国扶贫基金会爱心包裹 ->
    爱心包裹, but 国际爱心包裹 stays 国际爱心包裹. An organisation counts when it shares at least
    ``MIN_ORG_PART`` characters with the name, or the whole of a shorter organisation name (百度)."""
    for org in orgs:
        common = _longest_common(name, org)
        if len(common) >= MIN_ORG_PART or (len(common) >= 2 and common == org):
            name = name.replace(common, "")
    for word in NAME_GENERIC_PARTS:
        name = name.replace(word, "")
    return name
