"""docker-compose.yml, its RabbitMQ/PostgreSQL files, and its agreement with deploy/k8s."""

import copy
import json
import re
from pathlib import Path

import deploy_check as dc
import pytest

ROOT = Path(__file__).resolve().parents[2]




@pytest.fixture(scope="module")
def compose():
    return dc.load_compose()


@pytest.fixture(scope="module")
def dev():
    return dc.render("dev")


def test_deploy_compose_structure_passes(compose):
    assert dc.check_compose(compose) == []
    services = compose["services"]
    assert {"postgres", "rabbitmq", "minio", "createbuckets", "elasticsearch", "migrate", "broker-setup",
            *dc.SERVICES} <= set(services)
    for name, s in services.items():
        assert "healthcheck" in s or s.get("restart") == "no", name


def test_deploy_compose_one_shots_and_waits(compose):
    services = compose["services"]
    assert services["migrate"]["command"] == ["migrate", "all"]
    assert services["broker-setup"]["command"] == ["broker", "setup"]
    for svc in dc.SERVICES:
        deps = services[svc]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert deps["broker-setup"]["condition"] == "service_completed_successfully"
        assert deps["postgres"]["condition"] == "service_healthy"
    assert services["media"]["depends_on"]["createbuckets"]["condition"] == "service_completed_successfully"
    assert services["review"]["depends_on"]["elasticsearch"]["condition"] == "service_healthy"
    # Healthchecks use the image's Python, since it has no curl.
    for svc in dc.SERVICES:
        test = services[svc]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"] and "urllib" in test[3] and f"/api/{svc}/readyz" in test[3]
        compile(test[3], "healthcheck", "exec")


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda s: s["intake"].pop("healthcheck"), "compose intake: neither a healthcheck"),
        (lambda s: s["review"].update(depends_on=["postgres", "rabbitmq"]), "must give a condition"),
        (lambda s: s["media"]["depends_on"]["createbuckets"].update(condition="service_started"),
         "createbuckets should be condition service_completed_successfully"),
        (lambda s: s["publish"]["depends_on"]["postgres"].update(condition="service_started"),
         "postgres should be condition service_healthy"),
        (lambda s: s["publish"]["depends_on"].pop("migrate"), "migrate one-shot"),
        (lambda s: s["media"]["environment"].update(GONGYI_S3_BUCKET="x"), "undocumented"),
        (lambda s: s["review"]["environment"].pop("GONGYI_SEARCH_URL"), "missing ['GONGYI_SEARCH_URL']"),
        (lambda s: s["elasticsearch"].update(image="docker.elastic.co/elasticsearch/elasticsearch:7.17.9"),
         "8.x"),
        (lambda s: s["intake"].update(read_only=False), "read_only"),
        (lambda s: s["intake"]["healthcheck"].update(test=["CMD", "curl", "-f", "http://x/api/intake/readyz"]),
         "no curl"),
        (lambda s: s["media"].update(command=["serve", "intake"]), "command must be"),
        (lambda s: s["review"].update(stop_grace_period="10s"), "stop_grace_period"),
        (lambda s: s["console"]["depends_on"].pop("mailpit"), "compose console: depends_on lacks ['mailpit']"),
        (lambda s: s["console"]["environment"].update(GONGYI_API_BASE_URL="http://intake:8000"),
         "must point at the gateway"),
        (lambda s: s["console"]["environment"].pop("GONGYI_SMTP_URL"), "missing ['GONGYI_SMTP_URL']"),
        (lambda s: s["migrate"]["environment"].pop("GONGYI_CONSOLE_DB_URL"),
         "compose migrate: missing ['GONGYI_CONSOLE_DB_URL']"),
    ],
)
def test_deploy_compose_check_catches_breakage(compose, mutate, expected):
    broken = copy.deepcopy(compose)
    mutate(broken["services"])
    problems = dc.check_compose(broken)
    assert any(expected in p for p in problems), problems


def test_deploy_compose_matches_kubernetes(compose, dev):
    assert dc.check_compose_vs_k8s(compose, dev) == []
    broken = copy.deepcopy(compose)
    broken["services"]["intake"]["environment"]["GONGYI_SEARCH_URL"] = "http://elasticsearch:9200"
    assert any("intake: env differs" in p for p in dc.check_compose_vs_k8s(broken, dev))
    broken = copy.deepcopy(compose)
    broken["services"]["postgres"]["image"] = "postgres:17"
    assert any("postgresql: dev overlay image" in p for p in dc.check_compose_vs_k8s(broken, dev))
    broken = copy.deepcopy(compose)
    broken["services"]["review"]["image"] = "gongyi:${GONGYI_TAG:-latest}"
    assert any("review: dev overlay image" in p for p in dc.check_compose_vs_k8s(broken, dev))


def test_deploy_env_example_covers_compose_variables(compose):
    text = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*):\?", text))
    example = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    assert required and required <= set(example)
    # The dev JWT secret would make server mode refuse to start.
    assert len(example["GONGYI_JWT_SECRET"]) >= 32


def test_deploy_rabbitmq_definitions():
    defs = json.loads((ROOT / "deploy/rabbitmq/definitions.json").read_text())
    assert dc.check_rabbitmq_definitions(defs) == []
    assert "load_definitions = /etc/rabbitmq/definitions.json" in (ROOT / "deploy/rabbitmq/rabbitmq.conf").read_text()
    looping = copy.deepcopy(defs)
    looping["policies"][0]["pattern"] = ".*"
    assert any("loop" in p for p in dc.check_rabbitmq_definitions(looping))
    unbound = copy.deepcopy(defs)
    unbound["bindings"] = []
    assert any("not bound" in p for p in dc.check_rabbitmq_definitions(unbound))
    # The user in the definitions is the one .env.example names; the hash is sha256 with a salt.
    assert defs["users"][0]["name"] == "gongyi"
    assert defs["users"][0]["hashing_algorithm"] == "rabbit_password_hashing_sha256"


def test_deploy_rabbitmq_password_hash_matches_env_example():
    import base64
    import hashlib

    defs = json.loads((ROOT / "deploy/rabbitmq/definitions.json").read_text())
    example = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    raw = base64.b64decode(defs["users"][0]["password_hash"])
    salt, digest = raw[:4], raw[4:]
    assert hashlib.sha256(salt + example["RABBITMQ_PASSWORD"].encode()).digest() == digest


def test_deploy_postgres_init_script_is_shared_and_per_service():
    script = (ROOT / "deploy/postgres/init-databases.sh").read_text()
    assert (ROOT / "deploy/k8s/overlays/dev/postgres-init-databases.sh").read_text() == script
    assert 'services="${GONGYI_DB_SERVICES:-intake media review publish console}"' in script
    assert "CONSOLE_DB_PASSWORD" in (ROOT / "deploy/k8s/overlays/dev/backends.yaml").read_text()
    assert "REVOKE ALL ON DATABASE" in script
    assert (ROOT / "deploy/postgres/init-databases.sh").stat().st_mode & 0o111


def test_deploy_compose_gateway_routes_like_the_ingress(compose):
    # The console's GONGYI_API_BASE_URL is the gateway; it must route what the Ingress routes.
    conf = (ROOT / "deploy/compose/gateway.conf").read_text()
    routes = dict(re.findall(r"location (/[a-z/]+/) \{ set \$up http://([a-z]+):8000;", conf))
    assert routes == {path: svc for svc, path in dc.PUBLIC_PATHS.items()}
    gateway = compose["services"]["gateway"]
    assert "./deploy/compose/gateway.conf:/etc/nginx/conf.d/default.conf:ro" in gateway["volumes"]
    port = compose["services"]["console"]["environment"]["GONGYI_API_BASE_URL"].rsplit(":", 1)[1]
    assert f"listen {port};" in conf
