"""Search benchmark: typical staff queries (Chinese full text with filters and facets) at 1k, 10k and
100k indexed projects, through the review API and the same query sent raw to the engine. The raw body
is built by the route's own code (search_params, build_query), and the first round of each size checks
that the API's answer equals the raw answer shaped by the route's shape_response.

    .venv/bin/python bench/search.py --sizes 1000 10000 100000 --queries 60
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.environment import environment, print_table, summary, token, write_result  # noqa: E402

PROVINCES = ["北京市", "河南省", "四川省", "广东省", "浙江省", "甘肃省", "云南省", "湖北省", "山东省", "江苏省"]
CATEGORIES = ["common_prosperity", "social_assistance", "emergency_rescue", "education", "cultural_heritage", "other"]
SUBJECTS = ["留守儿童", "乡村振兴", "应急救援", "非遗传承", "助残服务", "养老关爱", "生态保护", "公益直播", "网络课堂",
            "志愿服务", "医疗救助", "数字普惠", "红色文化", "防灾减灾", "青少年心理"]
VERBS = ["依托互联网平台开展", "通过短视频和直播推动", "联合社会组织实施", "运用大数据精准对接", "以小程序为载体组织"]
OUTCOMES = ["累计服务群众{}万人次", "覆盖{}个县区", "募集善款{}万元", "培训志愿者{}名", "开展线上活动{}场"]
QUERIES = [("留守儿童", {"category": ["education"]}), ("乡村振兴 直播", {}), ("应急救援", {"province": ["四川省"]}),
           ("非遗传承 短视频", {}), ("志愿服务", {"category": ["social_assistance"], "province": ["河南省"]}),
           ("数字普惠 小程序", {})]


def document(rng: random.Random, i: int) -> dict:
    subject = rng.choice(SUBJECTS)
    narrative = "".join(
        f"{rng.choice(VERBS)}{rng.choice(SUBJECTS)}项目，{rng.choice(OUTCOMES).format(rng.randint(2, 900))}。"
        for _ in range(rng.randint(4, 9)))
    return {
        "application_id": f"{i:08d}-{uuid.UUID(int=rng.getrandbits(128))}"[:36],
        "call_id": rng.choice(["2024-national", "2018-henan"]), "status": "forwarded",
        "unit_code": f"cac-{rng.randint(1, 31)}", "category": rng.choice(CATEGORIES),
        "project_name": f"{rng.choice(PROVINCES)[:2]}{subject}{rng.choice(['行动', '计划', '工程', '平台'])}{i}",
        "applicant_name": f"{rng.choice(PROVINCES)[:2]}{rng.choice(['公益基金会', '志愿者协会', '网络科技有限公司'])}",
        "applicant_type": rng.choice(["social_organisation", "enterprise_institution", "news_media"]),
        "credit_code": None, "province": rng.choice(PROVINCES), "start_year": rng.randint(2015, 2022),
        "still_running": True, "summary": narrative[:200], "implementation_results": narrative,
        "innovation": f"{subject}模式可复制推广", "evidence_captions": [], "forwarded_at": "2024-02-01T10:00:00Z",
        "duplicate_flag": False, "score": round(rng.uniform(40, 98), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--queries", type=int, default=60, help="timed queries per size and path")
    args = parser.parse_args()

    from gongyi.search import make_search_client
    from services.review.domain.search_query import build_query, shape_response
    from services.review.entrypoints.schemas import SearchQuery
    from services.review.entrypoints.service import search_params
    from services.review.storage.search_index import ProjectIndex

    results = []
    with environment(("review",)) as (env, urls):
        es = make_search_client(env["GONGYI_SEARCH_URL"], request_timeout=120)
        index = ProjectIndex(es, env["GONGYI_SEARCH_INDEX_PREFIX"])
        deadline = time.monotonic() + 30
        while not index.current_indices():  # the service creates the index; a second ensure() could race it
            if time.monotonic() > deadline:
                raise RuntimeError("review created no search index")
            time.sleep(0.1)
        staff = requests.Session()
        staff.headers["Authorization"] = "Bearer " + token("staff")
        rng = random.Random(7)
        indexed = 0
        for size in sorted(args.sizes):
            started = time.perf_counter()
            batch = [document(rng, i) for i in range(indexed, size)]
            for k in range(0, len(batch), 2000):
                index.bulk_upsert(batch[k:k + 2000])
            index.refresh()
            indexed = size
            load_s = time.perf_counter() - started
            api_times, raw_times = [], []
            for n in range(args.queries + 5):
                q, filters = QUERIES[n % len(QUERIES)]
                params = {"q": q, **filters, "size": 20}
                # the body the route sends, built by the route's own code from the same parameters
                body = build_query(search_params(SearchQuery.model_validate(params)))

                # alternate which path goes first, so neither always meets a cache the other warmed
                for path in (("api", "raw") if n % 2 == 0 else ("raw", "api")):
                    t0 = time.perf_counter()
                    if path == "raw":
                        answer = es.search(index=index.alias, **body)
                        raw_times.append(time.perf_counter() - t0)
                    else:
                        r = staff.get(f"{urls['review']}/api/review/search", params=params, timeout=60)
                        api_times.append(time.perf_counter() - t0)
                        r.raise_for_status()
                if n < len(QUERIES) and shape_response(answer.body, 20) != r.json():
                    raise RuntimeError(f"the raw query is not the API's query: {q} {filters}")
                if n < 5:  # warm-up excluded
                    del raw_times[-1], api_times[-1]
            api, raw = summary(api_times), summary(raw_times)
            results.append({"size": size, "load_seconds": load_s, "api_s": api, "raw_s": raw,
                            "api_over_raw_p50": api["p50"] / raw["p50"], "api_over_raw_p95": api["p95"] / raw["p95"]})
    rows = [(str(r["size"]), f"{r['raw_s']['p50'] * 1000:.1f}", f"{r['raw_s']['p95'] * 1000:.1f}",
             f"{r['api_s']['p50'] * 1000:.1f}", f"{r['api_s']['p95'] * 1000:.1f}", f"{r['api_over_raw_p50']:.2f}x",
             f"{r['api_over_raw_p95']:.2f}x", f"{r['load_seconds']:.1f}") for r in results]
    print_table("search: typical staff queries (goal p95 < 50 ms; API <= 1.3x raw)", rows,
                ("projects", "raw p50 ms", "raw p95 ms", "API p50 ms", "API p95 ms", "API/raw p50", "API/raw p95",
                 "load s"))
    print(f"written {write_result('search', {'queries': args.queries, 'results': results})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
