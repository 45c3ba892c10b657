"""Prometheus alert rules and the Grafana dashboard: structure and metric names."""

import copy
import json
from pathlib import Path

import deploy_check as dc
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OBS = ROOT / "deploy" / "observability"




@pytest.fixture()
def alerts():
    return yaml.safe_load((OBS / "prometheus-alerts.yaml").read_text())


@pytest.fixture()
def dashboard():
    return json.loads((OBS / "grafana-dashboard.json").read_text())


def test_deploy_alert_rules_are_well_formed(alerts):
    assert dc.check_alert_rules(alerts) == []
    rules = {r["alert"]: r for g in alerts["groups"] for r in g["rules"]}
    # One alert per concern the operators asked for.
    by_metric = {
        "outbox backlog age": "gongyi_outbox_oldest_age_seconds",
        "dead letters": "gongyi_events_dead_lettered_total",
        "readiness failures": "gongyi_ready",
        "HTTP 5xx rate": 'status=~"5.."',
        "entrypoint latency p95": "histogram_quantile(0.95",
    }
    for concern, needle in by_metric.items():
        assert any(needle in r["expr"] for r in rules.values()), concern
    for r in rules.values():
        assert r["annotations"]["runbook"].startswith("docs/runbook.md#")


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda r: r.update(expr="gongyi_outbox_age_seconds > 1"), "unknown metrics"),
        (lambda r: r.update({"for": "five minutes"}), "bad 'for'"),
        (lambda r: r["labels"].update(severity="page"), "severity"),
        (lambda r: r.update(expr="sum(rate(gongyi_ready[5m])"), "unbalanced"),
        (lambda r: r.update(record="x"), "exactly one of alert/record"),
        (lambda r: r.update(summary="misplaced"), "unknown keys"),
    ],
)
def test_deploy_alert_check_catches_breakage(alerts, mutate, expected):
    broken = copy.deepcopy(alerts)
    mutate(broken["groups"][0]["rules"][0])
    assert any(expected in p for p in dc.check_alert_rules(broken))


def test_deploy_alert_check_requires_every_concern(alerts):
    broken = copy.deepcopy(alerts)
    for g in broken["groups"]:
        g["rules"] = [r for r in g["rules"] if "gongyi_ready" not in r["expr"]]
    assert any("gongyi_ready" in p for p in dc.check_alert_rules(broken))


def test_deploy_alert_runbook_anchors_exist(alerts):
    runbook = (ROOT / "docs/runbook.md").read_text()
    anchors = {r["annotations"]["runbook"].split("#", 1)[1] for g in alerts["groups"] for r in g["rules"]}
    headings = {line.lstrip("#").strip().lower().replace(" ", "-") for line in runbook.splitlines()
                if line.startswith("#")}
    assert anchors <= headings, anchors - headings


def test_deploy_dashboard_shows_every_metric(dashboard):
    assert dc.check_dashboard(dashboard) == []
    broken = copy.deepcopy(dashboard)
    broken["panels"] = [p for p in broken["panels"]
                        if not any("gongyi_outbox_backlog" in t["expr"] for t in p.get("targets", []))]
    assert any("gongyi_outbox_backlog" in p for p in dc.check_dashboard(broken))
    broken = copy.deepcopy(dashboard)
    broken["panels"][1]["targets"][0]["expr"] = "rate(gongyi_http_requests_total[5m])"
    assert any("unknown metrics" in p for p in dc.check_dashboard(broken))
