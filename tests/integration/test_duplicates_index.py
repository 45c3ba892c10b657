"""The candidate index on osmem-server (Elasticsearch API), filled from review's SQL signals.

- it returns the same candidates as ``InMemoryCandidateIndex`` (the engine query of
  docs/duplicates.md: boosted term clauses, min_score, own id excluded);
- the detector through the REAL lookup (engine candidates, SQL signals) keeps its quality on
  the evaluation set;
- keys held by more than ``max_df`` projects (stop keys, from a terms aggregation) are skipped;
- a rebuild from SQL swaps the alias.
"""

from __future__ import annotations

import json
from itertools import combinations

import pytest
import sqlalchemy as sa
from platform_support import REPO
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
from services.review.duplicates_handlers import make_lookup, rebuild_index
from services.review.storage.duplicates_index import DuplicateIndex, key_document
from services.review.storage.duplicates_repository import DuplicateRepository
from services.review.storage.duplicates_tables import dup_signals

EVAL = json.loads((REPO / "bench" / "data" / "dedupe" / "eval_set.json").read_text(encoding="utf-8"))
PREFIX = "idxtest-"


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
            repo.mark_checked(s.id, version)
        session.commit()
    client = make_search_client(settings.search_url)
    index = DuplicateIndex(client, f"{settings.search_index_prefix}-idxtest")
    index.ensure()
    try:
        yield engine, sessions, index, signals
    finally:
        for name in index.current_indices():
            client.indices.delete(index=name, ignore_unavailable=True)
        with engine.begin() as conn:
            conn.execute(dup_signals.delete().where(dup_signals.c.application_id.like(PREFIX + "%")))
        engine.dispose()


def test_rebuild_from_sql_swaps_the_alias(loaded):
    engine, _, index, signals = loaded
    before = index.current_indices()
    name = rebuild_index(engine, index)
    assert index.current_indices() == [name] and name not in before
    with engine.connect() as conn:
        active = conn.execute(sa.select(sa.func.count()).select_from(dup_signals)
                              .where(dup_signals.c.status == "active")).scalar_one()
    assert index.count() == active >= len(signals)


def test_engine_candidates_equal_the_in_memory_reference(loaded):
    engine, _, index, signals = loaded
    rebuild_index(engine, index)
    memory = InMemoryCandidateIndex()
    memory.add_all(signals)
    compared = 0
    for s in signals:
        keys = candidate_keys(s)
        expected = memory.candidate_ids(keys, s.id)
        got = [i for i in index.candidate_ids(keys, s.id) if i.startswith(PREFIX)]
        if len(expected) < memory.limit:  # below the size limit ties cannot reorder the cut
            assert set(got) == set(expected), s.id
            assert s.id not in got
            compared += 1
    assert compared == len(signals)


def test_detector_quality_through_the_real_lookup(loaded):
    engine, sessions, index, signals = loaded
    rebuild_index(engine, index)
    groups = [[PREFIX + i for i in g["ids"]] for g in EVAL["duplicate_groups"]]
    truth = {frozenset(p) for g in groups for p in combinations(g, 2)}
    flagged = set()
    with sessions() as session:
        lookup = make_lookup(DuplicateRepository(session), index)
        for s in signals:
            found = find_suspicions(s, lookup)
            flagged |= {frozenset(x.pair) for x in found if x.a_id.startswith(PREFIX) and x.b_id.startswith(PREFIX)}
    tp = len(flagged & truth)
    precision, recall = tp / len(flagged), tp / len(truth)
    print(f"\nreal path on the evaluation set: P {precision:.3f} R {recall:.3f} ({len(flagged)} flagged)")
    assert precision >= 0.95 and recall >= 0.95
    hard = {frozenset((PREFIX + n["ids"][0], PREFIX + n["ids"][1])) for n in EVAL["hard_negatives"]}
    assert not flagged & hard


def test_keys_held_by_too_many_projects_are_skipped(loaded):
    _, _, index, signals = loaded
    crowd = "91110000CROWDCODE1"
    docs = [key_document(f"crowd-{i}", "c", {"credit_code": [crowd], "name": [f"名称{i}"]})
            for i in range(index.max_df + 1)]
    index.write(docs, refresh="wait_for")
    try:
        assert ("credit_code", crowd) in index.stop_keys(force=True)
        # alone, the crowded key finds nothing; with a rarer key it is simply ignored
        assert index.candidate_ids({"credit_code": [crowd]}, "x") == []
        assert index.candidate_ids({"credit_code": [crowd], "name": ["名称3"]}, "x") == []
        assert index.candidate_ids({"credit_code": [crowd], "sha256": ["no-such"]}, "x") == []
        # an identifying key (boost 4) still finds its project
        index.write([key_document("crowd-x", "c", {"sha256": ["f" * 64]})], refresh="wait_for")
        assert index.candidate_ids({"credit_code": [crowd], "sha256": ["f" * 64]}, "x") == ["crowd-x"]
    finally:
        index.write([], deletes=[d["application_id"] for d in docs] + ["crowd-x"], refresh="wait_for")
        index.stop_keys(force=True)
