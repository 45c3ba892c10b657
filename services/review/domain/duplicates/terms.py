"""Words, entity-like tokens and figures with units: what two independently written
descriptions of one project share.

Two people describing one project rarely share long runs of characters (MinHash sees little),
but they name the same rare things: the founder (邓飞), the place (花开岭, 保山), the brand or the
quoted project name (“免费午餐”, 《山里DOU是好风光》), the partner (中国社会福利基金会), and the
same figures with their units (1830所, 12.47亿元). How RARE a shared token is in the corpus is
what tells a same-project pair from a same-theme one (every 助学 project says 乡村, 学生, 资助):
``scoring.py`` weighs each shared token by its IDF, taken from the candidate index's postings.

Segmentation is jieba's (its own bundled dictionary and HMM for unknown names; nothing is
downloaded). Its part-of-speech tags mark persons (nr), places (ns), organisations (nt) and
other proper nouns (nz); quoted spans are added whole. A description can be long (a 2000-
character narrative), so only the ``MAX_TERMS`` most telling words are kept, ranked by tf x
jieba's general-language IDF: the candidate index holds one posting per kept term, and the
stored list is what the scoring compares. Anything that changes the tokens must change
``TERMS_SCHEME`` (part of ``SIGNALS_VERSION``).
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .chars import fold, to_halfwidth

TERMS_SCHEME = "jieba0.42-t48-e2"
MAX_TERMS = 48
MAX_ENTITIES = 24
MAX_FIGURES = 16
ENTITY_FLAGS = frozenset({"nr", "nrfg", "nrt", "ns", "nt", "nz", "eng", "new"})
# Quoted spans: 《…》, “…”, 「…」, "…", 『…』, 【…】 of 2-20 characters.
_QUOTED_RE = re.compile(r"[《“「『【\"]([^《》“”「」『』【】\"\n]{2,20})[》”」』】\"]")
_HAS_WORD_RE = re.compile(r"[\u3400-\u9fffa-z]")
# A figure with its unit: 1830所, 12.47亿元, 44万人, 3.2万名, 490万元. Years and dates are not
# figures (every project of a call names the same years).
_UNITS = (
    "元|人次|人|名|所|个|家|位|户|村|县|乡|镇|省|市|吨|份|件|次|场|期|批|台|套|本|册|箱|间|座|亩|公里|千米|米|"
    "小时|天|年|例|颗|棵|株|只|袋|包|条|篇|万"
)
_FIGURE_RE = re.compile(
    r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(万亿|亿|万|千)?\s*(多|余)?\s*(" + _UNITS + r")"
)
_MULT = {None: 1, "千": 1_000, "万": 10_000, "亿": 100_000_000, "万亿": 10**12}
# Words too common in any description of a public-welfare project to identify one, even when the
# corpus at hand is too small to show it (a ten-line file). Rarity does the rest.
GENERIC_WORDS = frozenset(
    "公益 项目 计划 行动 活动 工程 基金 基金会 中国 我们 他们 通过 进行 开展 发起 全国 社会 帮助 组织 平台 "
    "互联网 网络 用户 志愿者 公司 服务 支持 参与 合作 提供 成立 启动 目前 其中 以及 已经 累计 共同 实现 "
    "推动 持续 相关 主要 一个 这个 没有 可以 成为 此外 同时 今年 去年 截至 超过 覆盖 受益 捐赠 捐款 "
    "爱心 慈善 公众 发展 工作 地区 单位 部门 政府 企业 机构 人员 方式 问题 情况 时间 能够 希望 需要".split()
)


@functools.lru_cache(maxsize=1)
def _jieba():  # noqa: ANN202 - the module, loaded once
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


@functools.lru_cache(maxsize=1)
def _general_idf() -> tuple[dict[str, float], float]:
    """jieba's bundled general-language IDF table (jieba/analyse/idf.txt) and its median."""
    _jieba()
    from jieba.analyse.tfidf import DEFAULT_IDF, IDFLoader

    loader = IDFLoader(DEFAULT_IDF)
    return loader.idf_freq, loader.median_idf


@dataclass(frozen=True)
class TextTokens:
    terms: list[str]  # the kept words, entities and name words (sorted, distinct)
    entities: list[str]  # persons, places, organisations, brands, quoted names (subset of terms)
    name_terms: list[str]  # the project name's own words (subset of terms)
    figures: list[str]  # "<value><unit>", e.g. "18300000元" (sorted, distinct)


_UNIT_WORD_RE = re.compile(r"^[\d.]*[十百千万亿]+[元人名个所家次户]?$|^\d")


def _word_ok(w: str) -> bool:
    return (
        len(w) >= 2 and bool(_HAS_WORD_RE.search(w)) and not _UNIT_WORD_RE.match(w) and w not in GENERIC_WORDS
    )


@functools.lru_cache(maxsize=1)
def _tags() -> dict[str, str]:
    return _jieba().posseg.dt.word_tag_tab


def segment(text: str) -> list[tuple[str, str]]:
    """(word, part-of-speech flag) of folded ``text``. A word jieba's HMM found outside its
    dictionary (a person's or place's name, a new brand) is flagged ``new``, which counts as an
    entity: the dictionary's tags by lookup, not jieba's slower tagging HMM (x6 the time)."""
    if not text:
        return []
    tags = _tags()
    return [(w, tags.get(w, "new")) for w in (w.strip() for w in _jieba().lcut(text)) if w]


def extract_figures(text: str) -> list[str]:
    """Figures with their units, the multiplier applied: 12.47亿元 -> "1247000000元",
    44万人 -> "440000人". Below 10 and bare years (2019年) are left out."""
    found: set[str] = set()
    for m in _FIGURE_RE.finditer(to_halfwidth(text or "")):
        digits, mult, _approx, unit = m.groups()
        if unit == "万":  # "500万" with no unit after it: the multiplier, unit unknown
            mult, unit = "万", ""
        if unit == "年" and mult is None and "." not in digits and len(digits) == 4:
            continue
        try:
            value = Decimal(digits.replace(",", "")) * _MULT[mult]
        except InvalidOperation:
            continue
        if value < 10:
            continue
        found.add(format(value.normalize(), "f") + unit)
    return sorted(found)[:MAX_FIGURES] if len(found) <= MAX_FIGURES else sorted(found, key=len, reverse=True)[
        :MAX_FIGURES
    ]


def name_words(names: list[str]) -> list[str]:
    """Words of a project's normalised names (each name as a whole too, when it is short enough
    to be a brand: 免费午餐, 团圆系统)."""
    words: set[str] = set()
    for name in names:
        words |= {w for w, _ in segment(name) if _word_ok(w)}
        if 2 <= len(name) <= 8:
            words.add(name)
    return sorted(words)


def tokens(names: list[str], text: str | None) -> TextTokens:
    """Tokens of one application: its normalised names (whole and parts) and its narrative
    (raw; folded here)."""
    folded = fold(text or "")
    idf, median = _general_idf()
    pairs = segment(folded)
    tf: Counter[str] = Counter(w for w, _ in pairs if _word_ok(w))
    entities = {w for w, f in pairs if f in ENTITY_FLAGS and _word_ok(w)}
    entities |= {q.strip() for q in _QUOTED_RE.findall(folded) if _word_ok(q.strip())}
    names = name_words(names)
    ranked_entities = sorted(entities, key=lambda w: (-idf.get(w, median) * (1 + tf[w]), w))[:MAX_ENTITIES]
    kept = set(names) | set(ranked_entities)
    for w, _ in sorted(tf.items(), key=lambda kv: (-kv[1] * idf.get(kv[0], median), kv[0])):
        if len(kept) >= MAX_TERMS:
            break
        kept.add(w)
    return TextTokens(
        terms=sorted(kept),
        entities=sorted(ranked_entities),
        name_terms=names,
        figures=extract_figures(folded),
    )
