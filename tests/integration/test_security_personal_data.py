"""Personal data never in logs: the thin flow (submit, endorse, forward, review stores and indexes)
runs with every logger at DEBUG captured, and the contact's mobile and email appear in no record."""

from __future__ import annotations

import logging
import uuid

from platform_support import Client, load_open_call, running_services, sample_form, tokens, wait_until

MOBILE, EMAIL = "13912345678", f"pii-{uuid.uuid4().hex[:6]}@example.org"


def test_contact_details_never_reach_the_logs(settings, caplog):
    load_open_call(settings)
    caplog.set_level(logging.DEBUG)
    tok = tokens(settings)
    form = sample_form()
    form["contact"].update({"mobile": MOBILE, "email": EMAIL})
    # a name of its own: other tests index many projects under the sample's name
    marker = "守望" + uuid.uuid4().hex[:8]
    form["project_name"] = f"{form['project_name']}{marker}"
    with running_services(settings, "intake", "review") as urls:
        applicant, unit = Client(urls["intake"], tok["applicant"]), Client(urls["intake"], tok["unit"])
        staff = Client(urls["review"], tok["staff"])
        created = applicant.post("/api/intake/applications", json={"call_id": "2024-national", "form": form})
        assert created.status_code == 201, created.text
        app_id = created.json()["id"]
        assert applicant.post(f"/api/intake/applications/{app_id}/submit").status_code == 200
        assert unit.post(f"/api/intake/applications/{app_id}/endorse", json={"opinion": "同意"}).status_code == 200
        batch = unit.post("/api/intake/batches",
                          json={"application_ids": [app_id], "idempotency_key": uuid.uuid4().hex})
        assert batch.status_code == 201, batch.text
        # a refused request echoes nothing personal either
        bad = {**form, "contact": {**form["contact"], "mobile": MOBILE + "x"}}
        applicant.post("/api/intake/applications", json={"call_id": "2024-national", "form": bad})

        def found():
            r = staff.get("/api/review/search", params={"q": marker})
            return app_id in [i["application_id"] for i in r.json().get("items", [])]

        wait_until(found, timeout=30, message="the project in staff search")
    assert len(caplog.records) > 0
    leaks = []
    for record in caplog.records:
        text = record.getMessage() + str(record.args) + str(record.exc_text or "")
        if MOBILE in text or EMAIL in text:
            leaks.append(f"{record.name}:{record.levelname}: {text[:200]}")
    print(f"\n{len(caplog.records)} log records at DEBUG checked; leaks: {len(leaks)}")
    assert not leaks, "\n".join(leaks[:10])
