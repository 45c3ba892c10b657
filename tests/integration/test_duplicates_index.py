"""The posting index on osmem-server (Elasticsearch API), kept from review's SQL ``dup_keys``.

- a rebuild fills ``dup_keys`` from the stored signals, writes one posting per key and swaps the alias;
- a check (one ``mget`` + ``rank_candidates``) returns exactly ``InMemoryCandidateIndex``'s candidates;
- the detector through the REAL lookup (engine postings, SQL signals) keeps its quality;
- the sync step moves keys in and out (withdrawn: all out, an empty posting is deleted), keeps
  stop keys' counts without their ids, and repairs postings after an engine failure;
- the advisory lock serialises replicas, so concurrent syncs leave every posting equal to SQL.
"""

from __future__ import annotations

import json
import threading
from itertools import combinations

import pytest
import sqlalchemy as sa
from platform_support import REPO
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from gongyi.db import make_engine
from gongyi.search import make_search_client
from services.review.domain.duplicates import (
    SIGNALS_VERSION,
    InMemoryCandidateIndex,
    candidate_keys,
    compute_signals,
    find_suspicions,
)
from services.review.handlers.duplicates import (
    application_keys,
    flush_postings,
    list_suspicions,
    make_lookup,
    rebuild_index,
    sync_postings,
)
from services.review.storage.duplicates.index import DuplicateIndex
from services.review.storage.duplicates.repository import DuplicateRepository, holders_of, lock_postings
from services.review.storage.duplicates.tables import dup_keys, dup_keys_dirty, dup_signals, posting_key

EVAL = json.loads((REPO / "bench" / "data" / "dedupe" / "eval_set.json").read_text(encoding="utf-8"))
PREFIX = "idxtest-"


def _delete_apps(engine: sa.Engine, like: str) -> None:
    with engine.begin() as conn:
        conn.execute(dup_keys.delete().where(dup_keys.c.application_id.like(like)))
        conn.execute(dup_signals.delete().where(dup_signals.c.application_id.like(like)))


@pytest.fixture(scope="module")
def loaded(settings):
    """The evaluation set's signals in review's SQL (already checked, so no service acts on them).
    Other tests' applications may share the database and so the rebuilt index: results are
    compared on this set's ids only."""
    engine = make_engine(settings.db_url("review"))
    sessions = sessionmaker(engine)
    signals = []
    for r in EVAL["records"]:
        record = {**r, "id": PREFIX + r["id"]}
        signals.append(compute_signals(record, r["evidence"]))
    with sessions() as session:
        repo = DuplicateRepository(session)
        for s in signals:
            version = repo.save_signals(s.id, s.call_id, s.unit_code, {"id": s.id}, s.to_dict(), SIGNALS_VERSION)
            repo.mark_checked_many({s.id: version})
        session.commit()
    client = make_search_client(settings.search_url)
    index = DuplicateIndex(client, f"{settings.search_index_prefix}-idxtest")
    index.ensure()
    rebuild_index(engine, index)
    try:
        yield engine, sessions, index, signals
    finally:
        for name in index.current_indices():
            client.indices.delete(index=name, ignore_unavailable=True)
        _delete_apps(engine, PREFIX + "%")
        engine.dispose()


def _mark_dirty(conn: sa.Connection, keys: list[str]) -> None:
    """After a test deletes its rows from SQL directly: their postings are rewritten (deleted)."""
    if keys:
        conn.execute(pg_insert(dup_keys_dirty).on_conflict_do_nothing(), [{"key": k} for k in keys])


def _engine_postings(index: DuplicateIndex, keys: list[str]) -> dict[str, dict]:
    raw = index.client.mget(index=index.alias, ids=keys)
    return {d["_id"]: d["_source"] for d in raw["docs"] if d.get("found")}


def _add_signals(engine: sa.Engine, records: list[dict], status: str = "active") -> None:
    with sessionmaker(engine)() as session:
        repo = DuplicateRepository(session)
        for r in records:
            s = compute_signals(r, r.get("evidence", []))
            repo.save_signals(s.id, s.call_id, s.unit_code, {"id": s.id}, s.to_dict(), SIGNALS_VERSION)
            if status != "active":
                repo.set_status(s.id, status)
        session.commit()


def _sync_until_clean(engine: sa.Engine, index: DuplicateIndex, ids: list[str]) -> None:
    """The loop's write step; the rows stay pending (no check here), then are marked checked."""
    sync_postings(engine, index, batch=10_000)
    with engine.begin() as conn:
        conn.execute(dup_signals.update().where(dup_signals.c.application_id.in_(ids))
                     .values(checked_version=dup_signals.c.version))


def test_rebuild_fills_dup_keys_and_writes_one_posting_per_key(loaded):
    engine, _, index, signals = loaded
    before = index.current_indices()
    name = rebuild_index(engine, index)
    assert index.current_indices() == [name] and name not in before
    with engine.connect() as conn:
        stored = {(k, a) for k, a in conn.execute(sa.select(dup_keys.c.key, dup_keys.c.application_id))}
        distinct = conn.execute(sa.select(sa.func.count(sa.distinct(dup_keys.c.key)))).scalar_one()
        assert conn.execute(sa.select(sa.func.count()).select_from(dup_keys_dirty)).scalar_one() == 0
    for s in signals[:50]:
        assert {k for k, a in stored if a == s.id} == application_keys(s.to_dict())
    assert index.count() == distinct > len(signals)
    # a posting lists its holders (the same copy of a photo: the same file hash)
    s = next(s for s in signals if s.sha256s)
    key = posting_key("sha256", s.sha256s[0])
    doc = _engine_postings(index, [key])[key]
    assert doc["kind"] == "sha256" and s.id in doc["ids"] and doc["n"] == len(doc["ids"])


def test_engine_candidates_equal_the_in_memory_reference(loaded):
    _, _, index, signals = loaded
    memory = InMemoryCandidateIndex()
    memory.add_all(signals)
    compared = with_candidates = 0
    for s in signals:
        keys = candidate_keys(s)
        expected = memory.candidate_ids(keys, s.id)
        got = [i for i in index.candidate_ids(keys, s.id) if i.startswith(PREFIX)]
        if len(expected) < memory.limit:  # below the size limit other tests' projects cannot cut the list
            # the same scoring code on both sides: same ids, same order (score, then id)
            assert got == expected, s.id
            compared += 1
            with_candidates += bool(expected)
    # with word keys some records reach the 50-candidate limit, where other tests' projects may cut in
    assert compared >= 0.8 * len(signals) and with_candidates > 300


def test_detector_quality_through_the_real_lookup(loaded):
    _, sessions, index, signals = loaded
    groups = [[PREFIX + i for i in g["ids"]] for g in EVAL["duplicate_groups"]]
    truth = {frozenset(p) for g in groups for p in combinations(g, 2)}
    flagged = set()
    with sessions() as session:
        lookup = make_lookup(DuplicateRepository(session), index)
        for s in signals:
            found = find_suspicions(s, lookup.lookup, stats_for=lookup.term_stats)
            flagged |= {frozenset(x.pair) for x in found if x.a_id.startswith(PREFIX) and x.b_id.startswith(PREFIX)}
    tp = len(flagged & truth)
    precision, recall = tp / len(flagged), tp / len(truth)
    print(f"\nreal path on the evaluation set: P {precision:.3f} R {recall:.3f} ({len(flagged)} flagged)")
    assert precision >= 0.95 and recall >= 0.95
    hard = {frozenset((PREFIX + n["ids"][0], PREFIX + n["ids"][1])) for n in EVAL["hard_negatives"]}
    assert len(flagged & hard) <= 1  # of 110 (bench/dedupe_quality.py: 1, a same-org pair)


def test_sync_moves_keys_in_and_out_and_withdrawn_leaves(loaded):
    engine, _, index, _ = loaded
    a = {"id": "sync-a", "call_id": "c", "credit_code": "91110000SYNCCODE1X", "org_name": "甲乙丙同步测试基金会",
         "project_name": "同步测试项目一"}
    b = {**a, "id": "sync-b"}
    code, name = posting_key("credit_code", "91110000SYNCCODE1X"), posting_key("name", "同步测试项目一")
    renamed = posting_key("name", "完全不同的名称")
    try:
        _add_signals(engine, [a, b])
        _sync_until_clean(engine, index, ["sync-a", "sync-b"])
        got = _engine_postings(index, [code, name])
        assert got[code] == {"kind": "credit_code", "n": 2, "ids": ["sync-a", "sync-b"]}
        assert got[name]["ids"] == ["sync-a", "sync-b"]
        # same code (3), organisation (2) and name (2): well over MIN_SCORE
        assert index.candidate_ids(candidate_keys(compute_signals(a, [])), "sync-a") == ["sync-b"]

        # b renamed: its old name key goes, its new one comes
        _add_signals(engine, [{**b, "project_name": "完全不同的名称"}])
        _sync_until_clean(engine, index, ["sync-b"])
        got = _engine_postings(index, [code, name, renamed])
        assert got[name]["ids"] == ["sync-a"] and got[renamed]["ids"] == ["sync-b"]
        # still the same code and organisation
        assert index.candidate_ids(candidate_keys(compute_signals(a, [])), "sync-a") == ["sync-b"]

        # b withdrawn: all its keys out, its own postings deleted
        with sessionmaker(engine)() as session:
            DuplicateRepository(session).set_status("sync-b", "withdrawn")
            session.commit()
        _sync_until_clean(engine, index, ["sync-b"])
        got = _engine_postings(index, [code, name, renamed])
        assert renamed not in got and got[code]["ids"] == ["sync-a"] and got[code]["n"] == 1
        assert index.candidate_ids(candidate_keys(compute_signals(a, [])), "sync-a") == []
    finally:
        _delete_apps(engine, "sync-%")
        with engine.begin() as conn:
            _mark_dirty(conn, [code, name, renamed])
        flush_postings(engine, index)


def test_stop_keys_keep_their_count_not_their_ids(loaded):
    engine, _, index, _ = loaded
    crowd = "91110000CROWDCODE1"
    apps = [{"id": f"crowd-{i:03d}", "call_id": "c", "credit_code": crowd, "project_name": f"拥挤测试{i}号"}
            for i in range(index.max_df + 1)]
    ids = [a["id"] for a in apps]
    key = posting_key("credit_code", crowd)
    try:
        _add_signals(engine, apps)
        _sync_until_clean(engine, index, ids)
        doc = _engine_postings(index, [key])[key]
        assert doc["n"] == index.max_df + 1 and doc["ids"] == []
        # alone, the crowded key finds nothing; with a rarer key it is simply ignored
        assert index.candidate_ids({"credit_code": [crowd]}, "x") == []
        assert index.candidate_ids({"credit_code": [crowd], "name": ["拥挤测试3号"]}, "x") == []
        # an identifying key (boost 4) still finds its project
        _add_signals(engine, [{"id": "crowd-x", "call_id": "c", "credit_code": crowd, "project_name": "拥挤测试x",
                               "evidence": [{"url": "https://example.org/crowd"}]}])
        _sync_until_clean(engine, index, ["crowd-x"])
        assert index.candidate_ids({"credit_code": [crowd], "link": ["example.org/crowd"]}, "x") == ["crowd-x"]
        # one fewer than the limit: the key counts again, with every holder listed
        with sessionmaker(engine)() as session:
            repo = DuplicateRepository(session)
            for i in ids[:2]:
                repo.set_status(i, "withdrawn")
            session.commit()
        _sync_until_clean(engine, index, ids[:2])
        doc = _engine_postings(index, [key])[key]
        assert doc["n"] == index.max_df and len(doc["ids"]) == index.max_df and "crowd-x" in doc["ids"]
    finally:
        _delete_apps(engine, "crowd-%")
        with engine.begin() as conn:
            _mark_dirty(conn, [key])
        flush_postings(engine, index)


def test_an_engine_failure_leaves_the_keys_dirty_and_the_next_pass_repairs(loaded, settings):
    engine, _, index, _ = loaded
    dead = DuplicateIndex(make_search_client("http://127.0.0.1:9", max_retries=0, request_timeout=2), "dead")
    dead.alias = index.alias
    app = {"id": "fail-a", "call_id": "c", "credit_code": "91110000FAILCODE1X", "project_name": "故障测试"}
    key = posting_key("credit_code", "91110000FAILCODE1X")
    try:
        _add_signals(engine, [app])
        with pytest.raises(Exception):  # noqa: B017 - any transport error
            sync_postings(engine, dead)
        with engine.connect() as conn:
            assert key in set(conn.execute(sa.select(dup_keys_dirty.c.key)).scalars())
            assert holders_of(conn, [key]) == {key: ["fail-a"]}  # the SQL change is committed
        assert key not in _engine_postings(index, [key])
        _sync_until_clean(engine, index, ["fail-a"])  # nothing new to move; the dirty key is written
        assert _engine_postings(index, [key])[key]["ids"] == ["fail-a"]
    finally:
        _delete_apps(engine, "fail-%")
        with engine.begin() as conn:
            _mark_dirty(conn, [key])
        flush_postings(engine, index)


def test_the_postings_lock_serialises_replicas(loaded):
    engine, _, index, _ = loaded
    with engine.begin() as holder:
        lock_postings(holder)
        with engine.begin() as other, pytest.raises(OperationalError, match="lock timeout"):
            lock_postings(other, timeout_s=0.2)

    # two "replicas" syncing at once while applications keep changing: every posting ends equal to SQL
    apps = [{"id": f"race-{i:02d}", "call_id": "c", "credit_code": f"9111000RACE{i % 3:07d}",
             "project_name": f"并发测试{i % 4}"} for i in range(12)]
    ids = [a["id"] for a in apps]
    errors: list[BaseException] = []
    keys: list[str] = []

    def replica() -> None:
        try:
            for _ in range(6):
                sync_postings(engine, index, batch=5)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=replica) for _ in range(2)]
        for t in threads:
            t.start()
        for round_ in range(3):
            _add_signals(engine, [{**a, "project_name": f"并发测试{(i + round_) % 4}"} for i, a in enumerate(apps)])
        for t in threads:
            t.join()
        assert not errors
        _sync_until_clean(engine, index, ids)
        with engine.connect() as conn:
            keys = sorted(set(conn.execute(sa.select(dup_keys.c.key).where(dup_keys.c.application_id.in_(ids)))
                              .scalars()))
            truth = holders_of(conn, keys)
        got = _engine_postings(index, keys)
        assert {k: sorted(v) for k, v in truth.items()} == {k: d["ids"] for k, d in got.items()}
    finally:
        _delete_apps(engine, "race-%")
        with engine.begin() as conn:
            _mark_dirty(conn, keys)
        flush_postings(engine, index)


def test_embedded_mode_on_sqlite_finds_and_withdraws_a_duplicate(settings, tmp_path):
    """`gongyi run` keeps review's tables in SQLite: the same sync, lock, postings and check
    work there (no advisory lock, no array_agg, the SQLite ON CONFLICT)."""
    from gongyi.db import migrate
    from services.review.handlers.duplicates import sync_and_check
    from services.review.storage.unit_of_work import ReviewUnitOfWork

    url = f"sqlite:///{tmp_path / 'review.db'}"
    migrate("review", url)
    engine = make_engine(url)
    index = DuplicateIndex(make_search_client(settings.search_url), f"{settings.search_index_prefix}-sqlite")
    index.ensure()
    sessions = sessionmaker(engine, expire_on_commit=False)
    a = {"id": "lite-a", "call_id": "c", "credit_code": "91110000LITECODE1X", "org_name": "嵌入模式测试基金会",
         "project_name": "嵌入模式测试项目"}
    try:
        _add_signals(engine, [a, {**a, "id": "lite-b"}])
        assert sync_and_check(engine, index, lambda: ReviewUnitOfWork(sessions, "review")) == 2
        code = posting_key("credit_code", "91110000LITECODE1X")
        with engine.connect() as conn:
            assert holders_of(conn, [code]) == {code: ["lite-a", "lite-b"]}
        with ReviewUnitOfWork(sessions, "review") as uow:
            found = list_suspicions(uow, None, "open")
        assert [sorted(s["application_ids"]) for s in found["items"]] == [["lite-a", "lite-b"]]
        with sessions() as session:
            DuplicateRepository(session).set_status("lite-b", "withdrawn")
            session.commit()
        sync_and_check(engine, index, lambda: ReviewUnitOfWork(sessions, "review"))
        assert index.candidate_ids(candidate_keys(compute_signals(a, [])), "lite-a") == []
    finally:
        for name in index.current_indices():
            index.client.indices.delete(index=name, ignore_unavailable=True)
        engine.dispose()


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_dirty_keys_are_marked_in_chunks_once_each(settings, tmp_path, database):
    """Marking postings dirty is one multi-row statement per chunk; more keys than one chunk (and
    than SQLite's parameter limit) all arrive, and marking a key twice keeps one row."""
    from gongyi.db import migrate
    from services.review.storage.duplicates.repository import dirty_keys, mark_dirty_keys

    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'review.db'}"
        migrate("review", url)
    else:
        url = settings.db_url("review")
    engine = make_engine(url)
    keys = [f"chunktest|{i:05d}" for i in range(2_500)]
    try:
        statements: list[str] = []
        sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        with engine.begin() as conn:
            mark_dirty_keys(conn, keys[:1_200])
            mark_dirty_keys(conn, keys, chunk=1_000)  # 1,200 of them again
        # 2 chunks, then 3: never one statement per key
        assert len([s for s in statements if "dup_keys_dirty" in s]) == 5
        with engine.begin() as conn:
            marked = [k for k in dirty_keys(conn, 100_000) if k.startswith("chunktest|")]
        assert sorted(marked) == keys
    finally:
        with engine.begin() as conn:
            conn.execute(dup_keys_dirty.delete().where(dup_keys_dirty.c.key.like("chunktest|%")))
        engine.dispose()


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_signals_are_saved_in_one_upsert_with_a_rising_version(settings, tmp_path, database):
    """A first save is version 1, each later save the next; the stored signals are the latest."""
    from gongyi.db import migrate

    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'review.db'}"
        migrate("review", url)
    else:
        url = settings.db_url("review")
    engine = make_engine(url)
    app_id = f"upsert-{database}-{tmp_path.name}"
    try:
        with sessionmaker(engine)() as session:
            repo = DuplicateRepository(session)
            versions = [repo.save_signals(app_id, "c", None, {"id": app_id, "n": n}, {"n": n}, SIGNALS_VERSION)
                        for n in range(3)]
            session.commit()
            row = repo.get_signals_row(app_id)
        assert versions == [1, 2, 3]
        assert row["signals"] == {"n": 2} and row["source"]["n"] == 2 and row["version"] == 3
    finally:
        _delete_apps(engine, app_id)
        engine.dispose()


def test_one_pass_checks_many_and_keeps_settlements_and_clears_what_an_edit_undid(settings, tmp_path):
    """A pass checks all pending applications in one transaction, reading settled pairs and open
    suspicions once for all of them: a duplicate pair is found in the same pass that holds both,
    a pair settled as different projects is not raised again, and an edit that removes what two
    applications shared clears their open suspicion."""
    from gongyi.db import migrate
    from services.review.handlers.duplicates import suspicion_id_for, sync_and_check
    from services.review.storage.duplicates.tables import dup_settled_pairs, dup_suspicions
    from services.review.storage.unit_of_work import ReviewUnitOfWork

    url = f"sqlite:///{tmp_path / 'review.db'}"
    migrate("review", url)
    engine = make_engine(url)
    index = DuplicateIndex(make_search_client(settings.search_url), f"{settings.search_index_prefix}-pass")
    index.ensure()
    sessions = sessionmaker(engine, expire_on_commit=False)

    def run() -> int:
        return sync_and_check(engine, index, lambda: ReviewUnitOfWork(sessions, "review"))

    def statuses() -> dict[str, str]:
        with engine.connect() as conn:
            return {r.suspicion_id: r.status for r in conn.execute(sa.select(dup_suspicions))}

    twin = {"call_id": "c", "credit_code": "91110000PASSCODE1X", "org_name": "批量检查测试基金会",
            "project_name": "批量检查测试项目"}
    other = {"call_id": "c", "credit_code": "91440000OTHERCOD2Y", "org_name": "另一家无关的公益组织",
             "project_name": "完全不同的山区助学行动"}
    try:
        _add_signals(engine, [{**twin, "id": "pass-a"}, {**twin, "id": "pass-b"}, {**other, "id": "pass-c"},
                              {**twin, "id": "pass-d"}, {**twin, "id": "pass-e"}])
        with engine.begin() as conn:  # staff settled d and e as different projects before any check
            conn.execute(dup_settled_pairs.insert().values(a_id="pass-d", b_id="pass-e",
                                                           outcome="different_projects", settlement_id="s1"))
        assert run() == 5
        found = statuses()
        ab, de = suspicion_id_for("pass-a", "pass-b"), suspicion_id_for("pass-d", "pass-e")
        assert found[ab] == "open"
        assert de not in found
        assert not any(suspicion_id_for("pass-c", x) in found for x in ("pass-a", "pass-b", "pass-d", "pass-e"))
        with engine.connect() as conn:  # every row checked at its version, in one pass
            assert conn.execute(sa.select(sa.func.count()).select_from(dup_signals)
                                .where(dup_signals.c.checked_version < dup_signals.c.version)).scalar() == 0
        # b is edited into a different project: the next pass clears the open suspicion
        _add_signals(engine, [{**other, "id": "pass-b", "credit_code": "91330000THIRDCO3Z",
                               "org_name": "第三家机构", "project_name": "海岛渔民网络夜校"}])
        assert run() == 1
        assert statuses()[ab] == "cleared"
    finally:
        for name in index.current_indices():
            index.client.indices.delete(index=name, ignore_unavailable=True)
        engine.dispose()
