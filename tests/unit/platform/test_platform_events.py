"""The event envelope, its contracts, and the unit of work's outbox/inbox on a real database file."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from gongyi.db import UnitOfWork, inbox_t, make_engine, outbox_t
from gongyi.events.envelope import InvalidEvent, documented_types, make_event, validate_event
from gongyi.events.tables import add_messaging_tables


@pytest.fixture()
def uow_factory(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    md = sa.MetaData()
    add_messaging_tables(md)
    md.create_all(engine)
    yield lambda: UnitOfWork(sessionmaker(engine), "intake", correlation_id="corr-1")
    engine.dispose()


def _submitted(app_id="a1"):
    return {"application_id": app_id, "call_id": "2024-national", "call_version": 1, "state": "submitted",
            "unit_code": "cac-beijing"}


def test_envelope_is_cloudevents_structured_json():
    e = make_event(source_service="intake", type="application.submitted.v1", subject="application/a1",
                   data=_submitted())
    assert e["specversion"] == "1.0" and e["datacontenttype"] == "application/json"
    assert e["dataschema"] == "urn:gongyi:event:application.submitted.v1"
    assert e["correlationid"] == e["causationid"] == e["id"]
    validate_event(e)


def test_every_documented_type_has_a_full_schema():
    assert {"application.forwarded.v1", "call.loaded.v1"} <= documented_types()
    for t in documented_types():
        assert t.count(".") == 2 and t.rsplit(".", 1)[1].startswith("v")


@pytest.mark.parametrize("breakage", ["missing_field", "wrong_source", "unknown_type", "bad_state"])
def test_invalid_events_are_refused(breakage):
    e = make_event(source_service="intake", type="application.submitted.v1", subject="application/a1",
                   data=_submitted())
    if breakage == "missing_field":
        del e["data"]["call_id"]
    elif breakage == "wrong_source":
        e["source"] = "/elsewhere"
    elif breakage == "unknown_type":
        e["type"] = "thing.happened.v9"
    else:
        e["data"]["state"] = "teleported"
    with pytest.raises(InvalidEvent):
        validate_event(e)


def test_emit_writes_the_event_with_the_change_and_refuses_a_broken_one(uow_factory):
    with uow_factory() as uow:
        uow.emit("application.submitted.v1", "application/a1", _submitted())
        with pytest.raises(InvalidEvent):
            uow.emit("application.submitted.v1", "application/a2", {"application_id": "a2"})
        uow.commit()
    with uow_factory() as uow:
        rows = uow.session.execute(sa.select(outbox_t.c.body, outbox_t.c.sent_at)).all()
    assert len(rows) == 1 and rows[0].sent_at is None
    body = json.loads(rows[0].body)
    assert body["correlationid"] == "corr-1" and body["data"]["application_id"] == "a1"


def test_rolled_back_change_leaves_no_event(uow_factory):
    with pytest.raises(RuntimeError), uow_factory() as uow:
        uow.emit("application.submitted.v1", "application/a1", _submitted())
        raise RuntimeError("the change failed")
    with uow_factory() as uow:
        assert uow.session.execute(sa.select(sa.func.count()).select_from(outbox_t)).scalar() == 0


def test_inbox_claims_an_event_once_per_handler(uow_factory):
    event = make_event(source_service="intake", type="application.submitted.v1", subject="application/a1",
                       data=_submitted())
    with uow_factory() as uow:
        assert uow.claim(event, "review.h") is True
        uow.commit()
    with uow_factory() as uow:
        assert uow.claim(event, "review.h") is False
        assert uow.claim(event, "publish.h") is True
        uow.commit()
        assert uow.session.execute(sa.select(sa.func.count()).select_from(inbox_t)).scalar() == 2


def _mutations(event: dict) -> list[dict]:
    """Broken copies of a valid event: each envelope attribute and each data field removed, given a
    wrong type, or a string given an impossible date."""
    out = []
    for where in ("envelope", "data"):
        holder = event if where == "envelope" else event["data"]
        for key, value in holder.items():
            for replacement in (None, 12345, [], "2024-13-45T25:61:00Z", "不是日期"):
                if replacement == value:
                    continue
                broken = json.loads(json.dumps(event))
                target = broken if where == "envelope" else broken["data"]
                target[key] = replacement
                out.append(broken)
            broken = json.loads(json.dumps(event))
            (broken if where == "envelope" else broken["data"]).pop(key)
            out.append(broken)
    return out


def test_fast_validator_agrees_with_the_reference_on_valid_and_broken_events():
    """Events are checked by jsonschema-rs first (speed); its verdict must be the reference
    jsonschema's on every contract, for valid events and for hundreds of broken ones."""
    from jsonschema import Draft202012Validator

    from gongyi.events.envelope import _fast_validator, _validator

    valid = [
        make_event(source_service="intake", type="application.submitted.v1", subject="application/a1",
                   data=_submitted()),
        make_event(source_service="intake", type="application.withdrawn.v1", subject="application/a1",
                   data={"application_id": "a1", "call_id": "2024-national", "call_version": 1,
                         "state": "withdrawn", "unit_code": "cac-beijing"}),
    ]
    checked = 0
    for event in valid:
        assert isinstance(_validator(event["type"]), Draft202012Validator)
        for candidate in [event, *_mutations(event)]:
            # the schema is the one of the event's own type, even where a mutation broke "type"
            reference = _validator(event["type"]).is_valid(candidate)
            assert _fast_validator(event["type"]).is_valid(candidate) == reference, candidate
            checked += 1
        with pytest.raises(InvalidEvent):
            validate_event(_mutations(event)[0])
    # every contract: an empty-data event is refused by both
    for t in documented_types():
        empty = make_event(source_service="x", type=t, subject="s", data={})
        assert _fast_validator(t).is_valid(empty) == _validator(t).is_valid(empty) is False
    assert checked > 100


def test_a_value_json_cannot_hold_is_refused_with_a_message():
    import datetime as dt

    e = make_event(source_service="intake", type="application.submitted.v1", subject="application/a1",
                   data={**_submitted(), "call_id": dt.datetime(2024, 1, 1)})
    with pytest.raises(InvalidEvent, match="call_id"):
        validate_event(e)
