"""Make the synthetic evaluation set for duplicate detection (deterministic).

    .venv/bin/python bench/data/dedupe/make_eval_set.py          # writes eval_set.json here

See README.md beside this file for what the set contains and its known biases. The bench
(bench/dedupe_quality.py) also imports ``background_projects`` to synthesise big corpora.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opencc import OpenCC

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vocab as V  # noqa: E402

SEED = 20240229
OUT = Path(__file__).resolve().parent / "eval_set.json"
CALLS = ("call-2023-national", "call-2024-national")
N_BASE = 330
_S2T = OpenCC("s2t")
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_REGION = {"河南": "41", "甘肃": "62", "贵州": "52", "云南": "53", "四川": "51", "湖南": "43", "江西": "36",
           "广西": "45", "山西": "14", "陕西": "61", "浙江": "33", "广东": "44", "湖北": "42", "安徽": "34",
           "河北": "13", "新疆": "65", "北京": "11", "上海": "31"}
NUM_SLOTS = {  # slot: (low, high, step)
    "n_people": (800, 90000, 100), "n_vol": (20, 900, 1), "n_money": (12, 900, 1), "n_sites": (10, 300, 1),
    "n_hours": (1000, 90000, 10), "n_views": (10, 5000, 1), "n_sessions": (10, 600, 1),
    "n_villages": (10, 200, 1), "n_schools": (10, 120, 1), "n_items": (100, 20000, 10), "n_months": (12, 36, 1),
    "n_rate": (60, 99, 1),
}


@dataclass
class Org:
    name: str
    credit: str
    province: str


@dataclass
class Plan:
    """What a narrative says: (section, family, variant) in order, and the slot values."""

    sentences: list[tuple[str, int, int]]
    slots: dict[str, Any]
    wan: bool = False  # write big numbers as 3.2万


@dataclass
class Project:
    category: str
    theme: int
    org: Org
    province: str
    unit: str
    call: str
    name_parts: dict[str, str]
    name: str
    plan: Plan
    photos: list[tuple[str, str]] = field(default_factory=list)  # (sha256, phash)
    links: list[str] = field(default_factory=list)
    narrative: str = ""


# ---------------------------------------------------------------- building blocks

def credit_code(rng: random.Random, province: str, kind: str) -> str:
    head = "53" if "基金会" in kind else "52" if ("协会" in kind or "中心" in kind or "促进会" in kind) else "91"
    region = _REGION[province] + f"{rng.randrange(100, 10000):04d}"
    body = "".join(rng.choice(_CREDIT_ALPHABET) for _ in range(10))
    return (head + region + body)[:18]


def new_org(rng: random.Random, province: str | None = None) -> Org:
    province = province or rng.choice(list(V.PROVINCES))
    kind = rng.choice(V.ORG_KINDS)
    core = rng.choice(V.ORG_CORES) + (rng.choice(V.ORG_CORES) if rng.random() < 0.4 else "")
    full = V.PROVINCES[province][0]
    prefix = rng.choice([full, province, "", full])
    if rng.random() < 0.25:
        city, counties = rng.choice(V.PROVINCES[province][1])
        prefix = rng.choice([city, rng.choice(counties)])
    return Org(prefix + core + kind, credit_code(rng, province, kind), province)


def photo(rng: random.Random) -> tuple[str, str]:
    return f"{rng.getrandbits(256):064x}", f"{rng.getrandbits(64):016x}"


def flip_bits(phash: str, n: int, rng: random.Random) -> str:
    v = int(phash, 16)
    for b in rng.sample(range(64), n):
        v ^= 1 << b
    return f"{v:016x}"


def news_link(rng: random.Random) -> str:
    host = rng.choice(V.NEWS_HOSTS)
    if host == "mp.weixin.qq.com":
        return (f"https://mp.weixin.qq.com/s?__biz=Mz{rng.getrandbits(40):x}==&mid={rng.randrange(10**9, 10**10)}"
                f"&idx={rng.randint(1, 4)}&sn={rng.getrandbits(64):016x}")
    return (f"https://{host}/n1/{rng.randint(2019, 2023)}/{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}/"
            f"c{rng.randrange(1000, 99999)}-{rng.randrange(10**7, 10**8)}.html")


def link_variant(url: str, rng: random.Random) -> str:
    """The same article as another person would paste it."""
    out = url
    if rng.random() < 0.5:
        out = out.replace("https://", "http://", 1)
    if "mp.weixin.qq.com" in out:
        return out + f"&chksm={rng.getrandbits(32):08x}&scene={rng.choice([21, 126, 27])}#wechat_redirect"
    if rng.random() < 0.4:
        out = out.replace("://www.", "://m.", 1) if "://www." in out else out
    if rng.random() < 0.6:
        out += rng.choice(["?from=timeline", "?utm_source=wechat&utm_medium=share", "?spm=a21.3", "#comment"])
    return out


def new_slots(rng: random.Random, province: str, org: Org, theme: tuple, brand: str) -> dict[str, Any]:
    cores, benes, acts, topic = theme
    city, counties = rng.choice(V.PROVINCES[province][1])
    b1, b2 = rng.sample(benes, 2)
    a = rng.sample(acts, 3)
    p1, p2 = rng.sample(V.PLATFORMS, 2)
    pa, pb = rng.sample(V.PARTNERS, 2)
    slots: dict[str, Any] = {
        "org": org.name, "brand": brand, "topic": topic, "bene": b1, "bene2": b2, "act": a[0], "act2": a[1],
        "act3": a[2], "place": province, "city": city, "county": rng.choice(counties), "platform": p1,
        "platform2": p2, "partner": pa, "partner2": pb, "start_year": rng.randint(2015, 2022),
        "media": "、".join(rng.sample(V.MEDIA, rng.randint(1, 3))), "award": rng.choice(V.AWARDS),
        "person": rng.choice(V.PERSON_FORMS).format(s=rng.choice(V.SURNAMES)),
        "person2": rng.choice(V.SURNAMES) + rng.choice(["晓", "志", "春", "丽", "建", "海", "文", "思"])
        + rng.choice(["明", "华", "燕", "军", "婷", "强", "雨", "宁"]),
        "age": rng.randint(8, 86), "village": rng.choice(V.VILLAGE_HEADS) + rng.choice(V.VILLAGE_HEADS)
        + rng.choice(V.VILLAGE_TAILS),
        "story_need": rng.choice(V.STORY_NEED), "story_help": rng.choice(V.STORY_HELP),
        "story_vol": rng.choice(V.STORY_VOL), "weather": rng.choice(V.WEATHER), "story_act": rng.choice(V.STORY_ACT),
        "story_end": rng.choice(V.STORY_END), "quote": rng.choice(V.QUOTES), "story_extra": rng.choice(V.STORY_EXTRA),
    }
    for k, (lo, hi, step) in NUM_SLOTS.items():
        slots[k] = rng.randrange(lo, hi + 1, step)
    return slots


def new_plan(rng: random.Random, slots: dict[str, Any]) -> Plan:
    sentences = []
    for sec in V.SECTION_ORDER:
        lo, hi = V.SECTION_COUNTS[sec]
        fams = rng.sample(range(len(V.FAMILIES[sec])), min(rng.randint(lo, hi), len(V.FAMILIES[sec])))
        for f in fams:
            sentences.append((sec, f, rng.randrange(len(V.FAMILIES[sec][f]))))
    return Plan(sentences, slots, wan=rng.random() < 0.5)


def fmt_number(v: int, wan: bool) -> str:
    if wan and v >= 10000 and v % 100 == 0:
        return f"{v / 10000:g}万"
    return str(v)


def render(plan: Plan, rng: random.Random | None = None, synonym_rate: float = 0.0) -> str:
    slots = {k: (fmt_number(v, plan.wan) if isinstance(v, int) and k.startswith("n_") else v)
             for k, v in plan.slots.items()}
    paragraphs: list[list[str]] = []
    last_sec = None
    for sec, f, var in plan.sentences:
        s = V.FAMILIES[sec][f][var].format_map(slots)
        if sec != last_sec:
            paragraphs.append([])
            last_sec = sec
        paragraphs[-1].append(s)
    text = "\n".join("".join(p) for p in paragraphs)
    if rng is not None and synonym_rate > 0:
        text = apply_synonyms(text, rng, synonym_rate)
    return text


def apply_synonyms(text: str, rng: random.Random, rate: float) -> str:
    for a, b in V.SYNONYMS:
        src, dst = (a, b) if rng.random() < 0.5 else (b, a)
        if src in text and rng.random() < rate:
            text = text.replace(src, dst)
    return text


def make_name(rng: random.Random, parts: dict[str, str], pattern: int | None = None) -> str:
    core, brand, suffix, place = parts["core"], parts["brand"], parts["suffix"], parts["place"]
    patterns = [
        f"{brand}·{core}{suffix}", f"“{brand}”{core}{suffix}", f"{place}{core}{suffix}", f"{core}{suffix}",
        f"{parts['year']}年“{brand}”{core}{suffix}", f"“互联网+{core}”{brand}{suffix}", f"{brand}{suffix}",
        f"《{place}{brand}{core}{suffix}》",
    ]
    return patterns[pattern if pattern is not None else rng.randrange(len(patterns))]


def new_project(rng: random.Random, category: str | None = None, org: Org | None = None,
                theme: int | None = None, province: str | None = None, call: str | None = None) -> Project:
    category = category or rng.choice(list(V.THEMES))
    theme = theme if theme is not None else rng.randrange(len(V.THEMES[category]))
    t = V.THEMES[category][theme]
    org = org or new_org(rng, province)
    province = province or org.province
    brand = rng.choice(V.BRANDS)
    slots = new_slots(rng, province, org, t, brand)
    parts = {"core": rng.choice(t[0]), "brand": brand, "suffix": rng.choice(V.NAME_SUFFIXES),
             "place": rng.choice([province, slots["county"], V.PROVINCES[province][0]]),
             "year": str(rng.choice([2022, 2023]))}
    plan = new_plan(rng, slots)
    unit = next((u for u in V.UNITS if u.startswith(province)), rng.choice(V.UNITS))
    if rng.random() < 0.3:
        unit = rng.choice(V.UNITS[18:])  # central news websites also recommend
    p = Project(category, theme, org, province, unit, call or rng.choice(CALLS), parts, make_name(rng, parts), plan)
    p.photos = [photo(rng) for _ in range(rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 8]))]
    p.links = [news_link(rng) for _ in range(rng.choice([0, 0, 1, 1, 2]))]
    p.narrative = render(plan)
    return p


# ---------------------------------------------------------------- true duplicates

def copy_text(src: Project, rng: random.Random, mode: str) -> tuple[Plan, str]:
    plan = Plan(list(src.plan.sentences), dict(src.plan.slots), src.plan.wan)
    if mode == "reorder":
        rng.shuffle(plan.sentences)
        return plan, render(plan)
    if mode == "abbreviate":
        keep = []
        for sec, n in (("background", 1), ("goal", 1), ("approach", 2), ("story", 1), ("results", 2),
                       ("outlook", 1)):
            cand = [s for s in plan.sentences if s[0] == sec]
            keep += rng.sample(cand, min(n, len(cand)))
        plan.sentences = [switch_variant(s, rng, 0.3) for s in keep]
        return plan, render(plan, rng, 0.3)
    # paraphrase / later_year: other wordings, synonyms, local reordering, drops
    plan.sentences = [switch_variant(s, rng, 0.6) for s in plan.sentences]
    plan.wan = not plan.wan if rng.random() < 0.5 else plan.wan
    for _ in range(rng.randint(0, 2)):
        if len(plan.sentences) > 8:
            plan.sentences.pop(rng.randrange(len(plan.sentences)))
    if mode == "later_year":
        for k in NUM_SLOTS:
            if k != "n_rate" and rng.random() < 0.45:
                plan.slots[k] = int(plan.slots[k] * rng.uniform(1.2, 2.0)) // 10 * 10
        used = {(s[0], s[1]) for s in plan.sentences}
        for _ in range(rng.randint(1, 3)):
            sec = rng.choice(["approach", "results", "impact", "innovation"])
            free = [f for f in range(len(V.FAMILIES[sec])) if (sec, f) not in used]
            if free:
                f = rng.choice(free)
                used.add((sec, f))
                plan.sentences.append((sec, f, rng.randrange(len(V.FAMILIES[sec][f]))))
        plan.sentences.sort(key=lambda s: V.SECTION_ORDER.index(s[0]))
    # Reorder within sections, sometimes whole sections.
    by_sec: dict[str, list] = {}
    for s in plan.sentences:
        by_sec.setdefault(s[0], []).append(s)
    secs = list(by_sec)
    for v in by_sec.values():
        rng.shuffle(v)
    if rng.random() < 0.4:
        rng.shuffle(secs)
    plan.sentences = [s for sec in secs for s in by_sec[sec]]
    return plan, render(plan, rng, 0.5)


def switch_variant(s: tuple[str, int, int], rng: random.Random, p: float) -> tuple[str, int, int]:
    sec, f, var = s
    n = len(V.FAMILIES[sec][f])
    if n > 1 and rng.random() < p:
        var = rng.choice([v for v in range(n) if v != var])
    return (sec, f, var)


def rename(src: Project, rng: random.Random) -> str:
    parts = dict(src.name_parts)
    ops = rng.sample(["suffix", "core", "year", "pattern", "pattern"], rng.randint(1, 3))
    pattern = None
    if "suffix" in ops:
        parts["suffix"] = rng.choice([s for s in V.NAME_SUFFIXES if s != parts["suffix"]])
    if "core" in ops:
        parts["core"] = rng.choice(V.THEMES[src.category][src.theme][0])
    if "year" in ops:
        parts["year"] = "2024"
        pattern = 4
    name = make_name(rng, parts, pattern)
    return name if name != src.name else make_name(rng, parts, (pattern or 0) + 1)


def org_variant(org: Org, rng: random.Random) -> tuple[Org, str]:
    r = rng.random()
    name = org.name
    if r < 0.4:
        return org, "same_org"
    if r < 0.6:
        for a, b in (("股份有限公司", "有限公司"), ("有限责任公司", "有限公司"), ("有限公司", "有限责任公司"),
                     ("基金会", "公益基金会")):
            if name.endswith(a) and not name.endswith("公益" + a):
                return Org(name[: -len(a)] + b, org.credit, org.province), "org_suffix"
        return Org(name, org.credit, org.province), "same_org"
    if r < 0.75:
        return Org(_S2T.convert(name), org.credit, org.province), "org_traditional"
    if r < 0.9:
        full, short = V.PROVINCES[org.province][0], org.province
        if name.startswith(full):
            return Org(name[len(full):], org.credit, org.province), "org_no_province"
        if name.startswith(short):
            return Org(full + name[len(short):], org.credit, org.province), "org_province_form"
        return Org(full + name, org.credit, org.province), "org_province_added"
    partner = new_org(rng, org.province)  # a partner body submits the same project
    return partner, "other_entity"


def duplicate_of(src: Project, rng: random.Random) -> tuple[Project, list[str]]:
    tags: list[str] = []
    mode = rng.choices(["reorder", "paraphrase", "abbreviate", "later_year"], [0.2, 0.45, 0.15, 0.2])[0]
    tags.append(mode)
    plan, text = copy_text(src, rng, mode)
    if rng.random() < 0.1:
        text = _S2T.convert(text)
        tags.append("text_traditional")
    org, otag = org_variant(src.org, rng)
    tags.append(otag)
    name = src.name
    if rng.random() < 0.75:
        name = rename(src, rng)
        tags.append("renamed")
    call = src.call
    if mode == "later_year" or rng.random() < 0.15:
        call = CALLS[1] if src.call == CALLS[0] else CALLS[0]
        tags.append("other_call")
    unit = src.unit
    if rng.random() < 0.6:
        unit = rng.choice([u for u in V.UNITS if u != src.unit])
        tags.append("other_unit")
    photos: list[tuple[str, str]] = []
    if src.photos and rng.random() < 0.75:
        kept = rng.sample(src.photos, max(1, round(len(src.photos) * rng.uniform(0.5, 1.0))))
        for sha, ph in kept:
            if rng.random() < 0.4:
                photos.append((sha, ph))
            else:  # re-encoded or resized: new bytes, a few pHash bits move
                photos.append((f"{rng.getrandbits(256):064x}",
                               flip_bits(ph, rng.choices([0, 1, 2, 3, 4, 5], [2, 4, 4, 3, 1, 1])[0], rng)))
        tags.append("photos_reused")
    photos += [photo(rng) for _ in range(rng.choice([0, 0, 1, 2]))]
    links = [link_variant(u, rng) for u in src.links if rng.random() < 0.6]
    if links:
        tags.append("same_link")
    p = Project(src.category, src.theme, org, src.province, unit, call, src.name_parts, name, plan, photos, links,
                text)
    return p, tags


# ---------------------------------------------------------------- hard negatives

def same_org_other_project(src: Project, rng: random.Random) -> Project:
    category = src.category if rng.random() < 0.3 else None
    p = new_project(rng, category=category, org=src.org, call=src.call)
    if category is not None:  # same category: a different theme where there is one
        others = [i for i in range(len(V.THEMES[category])) if i != src.theme]
        p = new_project(rng, category=category, org=src.org, theme=rng.choice(others), call=src.call)
    p.unit = src.unit if rng.random() < 0.7 else p.unit
    if src.photos and rng.random() < 0.3:  # the organisation's logo or team photo again
        p.photos.append(rng.choice(src.photos))
    return p


def same_theme_two_provinces(rng: random.Random) -> tuple[Project, Project]:
    category = rng.choice(list(V.THEMES))
    theme = rng.randrange(len(V.THEMES[category]))
    pa, pb = rng.sample(list(V.PROVINCES), 2)
    a = new_project(rng, category=category, theme=theme, province=pa)
    b = new_project(rng, category=category, theme=theme, province=pb)
    # Both copy the same national framing: background, goal and innovation sentences.
    shared = [s for s in a.plan.sentences if s[0] in ("background", "goal", "innovation", "outlook")]
    own = [s for s in b.plan.sentences if s[0] not in ("background", "goal", "innovation", "outlook")]
    b.plan.sentences = sorted(shared + own, key=lambda s: V.SECTION_ORDER.index(s[0]))
    b.plan.slots["topic"] = a.plan.slots["topic"]
    b.name_parts.update(core=a.name_parts["core"], suffix=a.name_parts["suffix"], place=pb)
    a.name_parts.update(place=pa)
    a.name, b.name = make_name(rng, a.name_parts, 2), make_name(rng, b.name_parts, 2)
    a.narrative, b.narrative = render(a.plan), render(b.plan)
    return a, b


def same_template(rng: random.Random) -> tuple[Project, Project]:
    """One programme's write-up reused by two counties: same sentences, other specifics."""
    a = new_project(rng)
    province = rng.choice(list(V.PROVINCES))
    b = new_project(rng, category=a.category, theme=a.theme, province=province)
    keep = ("brand", "topic", "act", "act2", "act3", "platform", "platform2", "bene", "bene2")
    b.plan.sentences = list(a.plan.sentences)
    b.plan.wan = a.plan.wan
    for k in keep:
        b.plan.slots[k] = a.plan.slots[k]
    b.name_parts.update(core=a.name_parts["core"], brand=a.name_parts["brand"], suffix=a.name_parts["suffix"],
                        place=b.plan.slots["county"])
    a.name_parts["place"] = a.plan.slots["county"]
    a.name, b.name = make_name(rng, a.name_parts, 7), make_name(rng, b.name_parts, 7)
    a.narrative, b.narrative = render(a.plan), render(b.plan)
    return a, b


# ---------------------------------------------------------------- output

def to_record(p: Project, pid: str) -> dict[str, Any]:
    evidence: list[dict[str, Any]] = [{"kind": "image", "sha256": s, "phash": h} for s, h in p.photos]
    evidence += [{"kind": "media_report", "url": u} for u in p.links]
    return {
        "id": pid, "call_id": p.call, "unit_code": p.unit, "province": p.province, "category": p.category,
        "org_name": p.org.name, "credit_code": p.org.credit if p.org.credit else None,
        "project_name": p.name, "narrative": p.narrative, "evidence": evidence,
    }


def build(seed: int = SEED) -> dict[str, Any]:
    rng = random.Random(seed)
    base = [new_project(rng) for _ in range(N_BASE)]
    items: list[tuple[str, Project]] = [(f"b{i}", p) for i, p in enumerate(base)]
    groups: list[tuple[list[str], list[list[str]]]] = []
    dup_sources = rng.sample(range(N_BASE), 110)
    for n, i in enumerate(dup_sources):
        copies = 1 if n < 85 else 2 if n < 105 else 3
        keys, tags = [f"b{i}"], []
        for c in range(copies):
            d, t = duplicate_of(base[i], rng)
            if c == 0 and rng.random() < 0.1:
                d.org = Org(d.org.name, "", d.org.province)  # credit code left blank
                t.append("no_credit_code")
            items.append((f"d{i}_{c}", d))
            keys.append(f"d{i}_{c}")
            tags.append(t)
        groups.append((keys, tags))
    negatives: list[tuple[str, str, str]] = []
    for n, i in enumerate(rng.sample([i for i in range(N_BASE) if i not in dup_sources], 40)):
        items.append((f"o{n}", same_org_other_project(base[i], rng)))
        negatives.append((f"b{i}", f"o{n}", "same_org_different_project"))
    for n in range(35):
        a, b = same_theme_two_provinces(rng)
        items += [(f"t{n}a", a), (f"t{n}b", b)]
        negatives.append((f"t{n}a", f"t{n}b", "same_theme_two_provinces"))
    for n in range(35):
        a, b = same_template(rng)
        items += [(f"s{n}a", a), (f"s{n}b", b)]
        negatives.append((f"s{n}a", f"s{n}b", "same_template_other_specifics"))
    rng.shuffle(items)
    ids = {key: f"APP{idx + 1:04d}" for idx, (key, _) in enumerate(items)}
    records = [to_record(p, ids[key]) for key, p in items]
    return {
        "seed": seed,
        "generator": "bench/data/dedupe/make_eval_set.py",
        "records": records,
        "duplicate_groups": [
            {"ids": [ids[k] for k in keys], "copy_transforms": tags} for keys, tags in groups
        ],
        "hard_negatives": [{"ids": [ids[a], ids[b]], "kind": kind} for a, b, kind in negatives],
    }


def background_projects(n: int, seed: int, prefix: str = "BG") -> list[dict[str, Any]]:
    """``n`` distinct projects (no planted duplicates) for scaling tests."""
    rng = random.Random(seed)
    return [to_record(new_project(rng), f"{prefix}{i:06d}") for i in range(n)]


def main() -> None:
    data = build()
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    n_pos = sum(len(g["ids"]) * (len(g["ids"]) - 1) // 2 for g in data["duplicate_groups"])
    print(f"{len(data['records'])} records, {len(data['duplicate_groups'])} duplicate groups "
          f"({n_pos} duplicate pairs), {len(data['hard_negatives'])} hard negative pairs -> {OUT} "
          f"({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
