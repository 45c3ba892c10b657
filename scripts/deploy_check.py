#!/usr/bin/env python3
"""Offline checks of everything under deploy/, docker-compose.yml and the Dockerfile.

What `make deploy-check` runs. Each check returns a list of problems (empty = pass), so
tests/deploy calls the same functions, also on deliberately broken copies.

Rendering: `kustomize build` if a kustomize binary is on PATH (or named by $KUSTOMIZE),
otherwise `kubectl kustomize`, whose built-in kustomize (v5 here) needs no cluster and no
network. Schema validation: the kubernetes-validate package, strict mode (unknown fields
fail), against the oldest and newest Kubernetes versions named in SCHEMA_VERSIONS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
SERVICES = ("intake", "media", "review", "publish", "console")
# The four services behind /api/<service>/; the console (a browser-facing BFF) is their client.
API_SERVICES = SERVICES[:4]
SCHEMA_VERSIONS = ("1.30.0", "1.37.0")
APP_UID = 10001
HTTP_PORT = 8000
IMAGE = "gongyi"
PART_OF = "app.kubernetes.io/part-of"
RO_EXCEPTION = "gongyi.io/readonly-rootfs-exception"

# The application's documented configuration; nothing else may be set on a gongyi container.
DOCUMENTED_ENV = frozenset(
    {
        "GONGYI_MODE", "GONGYI_AMQP_URI",
        "GONGYI_INTAKE_DB_URL", "GONGYI_MEDIA_DB_URL", "GONGYI_REVIEW_DB_URL", "GONGYI_PUBLISH_DB_URL",
        "GONGYI_SEARCH_URL", "GONGYI_S3_ENDPOINT", "GONGYI_S3_ACCESS_KEY", "GONGYI_S3_SECRET_KEY",
        "GONGYI_S3_REGION", "GONGYI_S3_QUARANTINE_BUCKET", "GONGYI_S3_EVIDENCE_BUCKET",
        "GONGYI_JWT_SECRET", "GONGYI_JWT_ISSUER", "GONGYI_JWT_AUDIENCE", "GONGYI_HTTP_HOST",
        "GONGYI_HTTP_PORT", "GONGYI_DEAD_LETTER_AFTER", "GONGYI_LOG_LEVEL",
        "GONGYI_RABBITMQ_MANAGEMENT_URL",
        # Read by gongyi/http/auth.py for key rotation (kid), beyond the original contract.
        "GONGYI_JWT_KEY_ID", "GONGYI_JWT_PREVIOUS",
        # the console (gongyi/config.py, services/console/config.py)
        "GONGYI_CONSOLE_DB_URL", "GONGYI_API_BASE_URL", "GONGYI_SMTP_URL", "GONGYI_MAIL_FROM",
        "GONGYI_CONSOLE_BASE_URL", "GONGYI_CONSOLE_SECURE_COOKIES",
    }
)
_COMMON = {"GONGYI_MODE", "GONGYI_AMQP_URI", "GONGYI_JWT_SECRET"}
_S3 = {"GONGYI_S3_ENDPOINT", "GONGYI_S3_ACCESS_KEY", "GONGYI_S3_SECRET_KEY"}
# What each service cannot run without (server mode).
REQUIRED_ENV = {
    "intake": _COMMON | {"GONGYI_INTAKE_DB_URL"},
    "media": _COMMON | {"GONGYI_MEDIA_DB_URL"} | _S3,
    "review": _COMMON | {"GONGYI_REVIEW_DB_URL", "GONGYI_SEARCH_URL"},
    "publish": _COMMON | {"GONGYI_PUBLISH_DB_URL"},
    # without the base URL it calls itself; without SMTP (outside `gongyi run`) mail never leaves
    "console": _COMMON | {"GONGYI_CONSOLE_DB_URL", "GONGYI_API_BASE_URL", "GONGYI_SMTP_URL"},
}
# Backend label value -> pod port; which backends each service may reach (and no others).
BACKEND_PORTS = {"postgresql": 5432, "rabbitmq": 5672, "minio": 9000, "elasticsearch": 9200}
SERVICE_BACKENDS = {
    "intake": {"postgresql", "rabbitmq"},
    "media": {"postgresql", "rabbitmq", "minio"},
    "review": {"postgresql", "rabbitmq", "elasticsearch"},
    "publish": {"postgresql", "rabbitmq"},
    "console": {"postgresql", "rabbitmq"},
}
# Beyond the backends: the console calls the APIs through the ingress controller, and sends mail.
CONTROLLER_PORT = 80
SMTP_PORTS = {25, 465, 587}
SERVICE_EXTRA_EGRESS = {"console": {"ingress-nginx", "smtp"}}
# ipBlock egress must keep these out, or "SMTP to the internet" reaches pods, Services and metadata.
PRIVATE_RANGES = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"}
# Where each service is routed on the public Ingress.
PUBLIC_PATHS = {**{s: f"/api/{s}/" for s in API_SERVICES}, "console": "/console/"}
INTERNAL_INGRESS = "gongyi-internal"
# Backend StatefulSet in the dev overlay -> docker-compose service running the same image.
COMPOSE_BACKENDS = {"postgresql": "postgres", "rabbitmq": "rabbitmq", "minio": "minio",
                    "elasticsearch": "elasticsearch", "minio-buckets": "createbuckets"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod"}
LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet"}

Obj = dict[str, Any]


# ---------------------------------------------------------------- rendering


def kustomize_command() -> list[str]:
    """The renderer, as an argv prefix; a directory is appended."""
    if os.environ.get("KUSTOMIZE"):
        return [os.environ["KUSTOMIZE"], "build"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    raise RuntimeError("no kustomize renderer: install kubectl (Debian/Google apt) or a kustomize binary")


def render(overlay: str) -> list[Obj]:
    path = K8S / "overlays" / overlay
    proc = subprocess.run([*kustomize_command(), str(path)], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"kustomize failed for {path}: {proc.stderr.strip()}")
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def load_compose(path: Path = ROOT / "docker-compose.yml") -> Obj:
    return yaml.safe_load(path.read_text())


def ref(obj: Obj) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def of_kind(objs: Iterable[Obj], kind: str) -> list[Obj]:
    return [o for o in objs if o.get("kind") == kind]


# ---------------------------------------------------------------- schema


def check_schema(objs: list[Obj], versions: Iterable[str] = SCHEMA_VERSIONS) -> list[str]:
    """kubernetes-validate --strict on every object, for every version."""
    import kubernetes_validate

    problems = []
    for version in versions:
        for obj in objs:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                problems.append(f"{ref(obj)} (k8s {version}): {exc.message}")
            except kubernetes_validate.SchemaNotFoundError:
                problems.append(f"{ref(obj)} (k8s {version}): no schema for {obj.get('apiVersion')}")
    return problems


# ---------------------------------------------------------------- pods


def pod_template(obj: Obj) -> Obj | None:
    kind = obj.get("kind")
    if kind == "Pod":
        return obj
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]
    if kind in WORKLOAD_KINDS:
        return obj["spec"]["template"]
    return None


def workloads(objs: Iterable[Obj]) -> Iterator[tuple[Obj, Obj]]:
    for obj in objs:
        tpl = pod_template(obj)
        if tpl is not None:
            yield obj, tpl


def is_gongyi(tpl: Obj) -> bool:
    return tpl.get("metadata", {}).get("labels", {}).get(PART_OF) == "gongyi"


def _effective(pod_sc: Obj, ct_sc: Obj, key: str) -> Any:
    return ct_sc[key] if key in ct_sc else pod_sc.get(key)


def _service_of(obj: Obj, tpl: Obj) -> str | None:
    name = tpl.get("metadata", {}).get("labels", {}).get("app.kubernetes.io/name")
    return name if name in SERVICES else None


def check_pods(objs: list[Obj], service_accounts: dict[str, Obj] | None = None) -> list[str]:
    """The pod rules, for every workload. gongyi pods get the full set; dev-only backends may
    keep their image's uid and may write their root filesystem only with a stated reason."""
    if service_accounts is None:
        service_accounts = {o["metadata"]["name"]: o for o in of_kind(objs, "ServiceAccount")}
    problems = []
    for obj, tpl in workloads(objs):
        where = ref(obj)
        spec = tpl.get("spec", {})
        ours = is_gongyi(tpl)
        pod_sc = spec.get("securityContext", {})
        annotations = tpl.get("metadata", {}).get("annotations", {})
        sa = service_accounts.get(spec.get("serviceAccountName", "default"), {})
        token = spec.get("automountServiceAccountToken", sa.get("automountServiceAccountToken"))
        if token is not False:
            problems.append(f"{where}: service account token is mounted")
        tmp_volumes = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
        containers = spec.get("containers", []) + spec.get("initContainers", [])
        for ct in containers:
            at = f"{where} container {ct.get('name')}"
            sc = ct.get("securityContext", {})
            if _effective(pod_sc, sc, "runAsNonRoot") is not True:
                problems.append(f"{at}: runAsNonRoot is not true")
            uid = _effective(pod_sc, sc, "runAsUser")
            if ours and uid != APP_UID:
                problems.append(f"{at}: runAsUser {uid}, expected {APP_UID}")
            if not ours and (not isinstance(uid, int) or uid == 0):
                problems.append(f"{at}: runAsUser must be a non-zero number")
            if sc.get("readOnlyRootFilesystem") is not True and not (not ours and annotations.get(RO_EXCEPTION)):
                problems.append(f"{at}: readOnlyRootFilesystem is not true")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{at}: allowPrivilegeEscalation is not false")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []) or sc.get("capabilities", {}).get("add"):
                problems.append(f"{at}: capabilities must drop ALL and add none")
            seccomp = _effective(pod_sc, sc, "seccompProfile") or {}
            if seccomp.get("type") != "RuntimeDefault":
                problems.append(f"{at}: seccompProfile is not RuntimeDefault")
            res = ct.get("resources", {})
            for part in ("requests", "limits"):
                missing = {"cpu", "memory"} - set(res.get(part, {}))
                if missing:
                    problems.append(f"{at}: resources.{part} lacks {sorted(missing)}")
            if not any(m.get("mountPath") == "/tmp" and m.get("name") in tmp_volumes
                       for m in ct.get("volumeMounts", [])):
                problems.append(f"{at}: no emptyDir mounted at /tmp")
            if ours:
                image = ct.get("image", "")
                if image.rsplit("/", 1)[-1].split(":")[0].split("@")[0] != IMAGE:
                    problems.append(f"{at}: image {image} is not the gongyi image")
            if obj["kind"] in LONG_RUNNING and ct in spec.get("containers", []):
                for probe in ("livenessProbe", "readinessProbe"):
                    if probe not in ct:
                        problems.append(f"{at}: no {probe}")
        if obj["kind"] in LONG_RUNNING and ours:
            problems += _check_service_pod(where, spec, _service_of(obj, tpl))
    return problems


def _check_service_pod(where: str, spec: Obj, service: str | None) -> list[str]:
    if service is None:
        return [f"{where}: gongyi workload without a known app.kubernetes.io/name"]
    problems = []
    ct = spec["containers"][0]
    if ct.get("args") != ["serve", service]:
        problems.append(f"{where}: args {ct.get('args')}, expected ['serve', '{service}']")
    base = f"/api/{service}"
    live = ct.get("livenessProbe", {}).get("httpGet", {}).get("path")
    ready = ct.get("readinessProbe", {}).get("httpGet", {}).get("path")
    if live != f"{base}/healthz":
        problems.append(f"{where}: liveness path {live}, expected {base}/healthz")
    if ready != f"{base}/readyz":
        problems.append(f"{where}: readiness path {ready}, expected {base}/readyz")
    ports = {p.get("name"): p.get("containerPort") for p in ct.get("ports", [])}
    if ports.get("http") != HTTP_PORT:
        problems.append(f"{where}: container port 'http' must be {HTTP_PORT}")
    pre_stop = ct.get("lifecycle", {}).get("preStop", {})
    cmd = pre_stop.get("exec", {}).get("command", [])
    sleep = int(cmd[1]) if len(cmd) == 2 and cmd[0] == "sleep" else pre_stop.get("sleep", {}).get("seconds")
    if not sleep:
        problems.append(f"{where}: no preStop sleep to let endpoints drain")
    grace = spec.get("terminationGracePeriodSeconds", 30)
    # The app drains in-flight workers for up to 30 s after SIGTERM, which follows preStop.
    if grace < (sleep or 0) + 30 + 5:
        problems.append(f"{where}: terminationGracePeriodSeconds {grace} < preStop {sleep} + 30 s drain + margin")
    return problems


# ---------------------------------------------------------------- per service


def _matches(selector: Obj, labels: Obj) -> bool:
    match = selector.get("matchLabels", {})
    if selector.get("matchExpressions"):
        return False  # not used here; a policy relying on it gets flagged for review
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def _deployments(objs: list[Obj]) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in of_kind(objs, "Deployment")}


def check_services(objs: list[Obj]) -> list[str]:
    """Exactly one Deployment, Service, HPA, PDB and NetworkPolicy per service, wired together."""
    problems = []
    deployments = _deployments(objs)
    hpas, pdbs, nps = of_kind(objs, "HorizontalPodAutoscaler"), of_kind(objs, "PodDisruptionBudget"), of_kind(
        objs, "NetworkPolicy")
    sas = {o["metadata"]["name"]: o for o in of_kind(objs, "ServiceAccount")}
    jobs = of_kind(objs, "Job")
    for svc in SERVICES:
        dep = deployments.get(svc)
        if dep is None:
            problems.append(f"{svc}: no Deployment")
            continue
        labels = dep["spec"]["template"]["metadata"]["labels"]
        spec = dep["spec"]["template"]["spec"]
        mine = [h for h in hpas if h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                                                     "name": svc}]
        if len(mine) != 1:
            problems.append(f"{svc}: {len(mine)} HorizontalPodAutoscalers, expected 1")
        for h in mine:
            if h["apiVersion"] != "autoscaling/v2":
                problems.append(f"{svc}: HPA is {h['apiVersion']}, expected autoscaling/v2")
            if h["spec"].get("minReplicas", 1) > h["spec"]["maxReplicas"]:
                problems.append(f"{svc}: HPA minReplicas > maxReplicas")
        if "replicas" in dep["spec"]:
            problems.append(f"{svc}: Deployment sets replicas; the HPA owns that field")
        mine = [p for p in pdbs if _matches(p["spec"]["selector"], labels)]
        if len(mine) != 1:
            problems.append(f"{svc}: {len(mine)} PodDisruptionBudgets, expected 1")
        for p in mine:
            # A budget that never allows an eviction blocks node drains.
            if p["spec"].get("maxUnavailable") in (0, "0%") or "minAvailable" in p["spec"]:
                problems.append(f"{svc}: PDB must use maxUnavailable >= 1 so drains can proceed at any scale")
        mine = [n for n in nps if _matches(n["spec"]["podSelector"], labels)]
        if len(mine) != 1:
            problems.append(f"{svc}: {len(mine)} NetworkPolicies select its pods, expected 1")
        else:
            problems += check_service_policy(svc, mine[0], spec)
        services = [s for s in of_kind(objs, "Service") if s["spec"].get("selector")
                    and all(labels.get(k) == v for k, v in s["spec"]["selector"].items())]
        if len(services) != 1:
            problems.append(f"{svc}: {len(services)} Services select its pods, expected 1")
        sa = sas.get(spec.get("serviceAccountName", ""))
        if sa is None or sa.get("automountServiceAccountToken") is not False:
            problems.append(f"{svc}: needs its own ServiceAccount with automountServiceAccountToken: false")
        migrations = [j for j in jobs if pod_template(j)["spec"]["containers"][0].get("args") in (
            ["migrate", svc], ["migrate", "all"])]
        if not migrations:
            problems.append(f"{svc}: no migration Job")
    problems += check_ingress(objs)
    return problems


def check_service_policy(svc: str, policy: Obj, spec: Obj) -> list[str]:
    where = f"{svc}: NetworkPolicy {policy['metadata']['name']}"
    problems = []
    pspec = policy["spec"]
    if set(pspec.get("policyTypes", [])) != {"Ingress", "Egress"}:
        problems.append(f"{where}: policyTypes must be Ingress and Egress")
    ingress = pspec.get("ingress", [])
    if not any(r.get("from") and any(f.get("namespaceSelector", {}).get("matchLabels", {}).get(
            "kubernetes.io/metadata.name") == "ingress-nginx" for f in r["from"])
               and {p.get("port") for p in r.get("ports", [])} == {HTTP_PORT} for r in ingress):
        problems.append(f"{where}: no ingress from the ingress controller to port {HTTP_PORT}")
    for r in ingress:
        if not r.get("from") or not r.get("ports"):
            problems.append(f"{where}: an ingress rule without 'from' or 'ports' opens the pod")
    reached: set[str] = set()
    extra: set[str] = set()
    dns = False
    for r in pspec.get("egress", []):
        if not r.get("to") or not r.get("ports"):
            problems.append(f"{where}: an egress rule without 'to' or 'ports' opens the world")
            continue
        ports = {p.get("port") for p in r["ports"]}
        for peer in r["to"]:
            labels = peer.get("podSelector", {}).get("matchLabels", {})
            namespace = peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            backend = labels.get("gongyi.io/backend")
            if labels.get("k8s-app") == "kube-dns":
                dns = dns or ports == {53}
            elif backend:
                if ports != {BACKEND_PORTS.get(backend)}:
                    problems.append(f"{where}: egress to {backend} on {sorted(ports)}")
                reached.add(backend)
            elif namespace == "ingress-nginx" and labels.get("app.kubernetes.io/name") == "ingress-nginx":
                if ports != {CONTROLLER_PORT}:
                    problems.append(f"{where}: egress to the ingress controller on {sorted(ports)},"
                                    f" expected [{CONTROLLER_PORT}]")
                extra.add("ingress-nginx")
            elif "ipBlock" in peer:
                problems += _check_smtp_block(where, peer["ipBlock"], ports)
                extra.add("smtp")
            else:
                problems.append(f"{where}: egress to an unexpected peer {peer}")
    if not dns:
        problems.append(f"{where}: no egress to DNS")
    if reached != SERVICE_BACKENDS[svc]:
        problems.append(f"{where}: egress reaches {sorted(reached)}, expected {sorted(SERVICE_BACKENDS[svc])}")
    wanted = SERVICE_EXTRA_EGRESS.get(svc, set())
    if extra != wanted:
        problems.append(f"{where}: egress beyond the backends {sorted(extra)}, expected {sorted(wanted)}")
    return problems


def _check_smtp_block(where: str, block: Obj, ports: set[Any]) -> list[str]:
    """An address range is only for mail, and a wide one must leave the private ranges out."""
    problems = []
    if not ports <= SMTP_PORTS:
        problems.append(f"{where}: ipBlock egress on {sorted(ports)}, only SMTP {sorted(SMTP_PORTS)} allowed")
    cidr = block.get("cidr", "")
    if cidr.endswith("/0"):
        missing = PRIVATE_RANGES - set(block.get("except", []))
        if missing:
            problems.append(f"{where}: ipBlock {cidr} does not except {sorted(missing)}")
    return problems


def _routes(ingress: Obj) -> dict[str, Obj]:
    routes = {}
    for rule in ingress["spec"].get("rules", []):
        for p in rule.get("http", {}).get("paths", []):
            routes[p["path"]] = p["backend"]["service"]
    return routes


def _check_routes(name: str, routes: dict[str, Obj], wanted: dict[str, str], services: dict[str, Obj]) -> list[str]:
    problems = []
    for svc, path in wanted.items():
        backend = routes.get(path)
        if backend is None or backend["name"] != svc:
            problems.append(f"Ingress {name}: {path} does not route to Service {svc}")
            continue
        port_names = {p.get("name") for p in services.get(svc, {}).get("spec", {}).get("ports", [])}
        if backend["port"].get("name") not in port_names:
            problems.append(f"Ingress {name}: {path} names a port Service {svc} lacks")
    return problems


def check_ingress(objs: list[Obj]) -> list[str]:
    """The public Ingress routes every service; the internal one gives the console the APIs at
    the host its GONGYI_API_BASE_URL names."""
    ingresses = {i["metadata"]["name"]: i for i in of_kind(objs, "Ingress")}
    public = [n for n in ingresses if n != INTERNAL_INGRESS]
    if len(public) != 1:
        return [f"{len(public)} public Ingresses, expected exactly 1"]
    services = {s["metadata"]["name"]: s for s in of_kind(objs, "Service")}
    problems = _check_routes(public[0], _routes(ingresses[public[0]]), PUBLIC_PATHS, services)
    internal = ingresses.get(INTERNAL_INGRESS)
    if internal is None:
        return problems + [f"no Ingress {INTERNAL_INGRESS} for the console's API calls"]
    routes = _routes(internal)
    problems += _check_routes(INTERNAL_INGRESS, routes, {s: PUBLIC_PATHS[s] for s in API_SERVICES}, services)
    if set(routes) - {PUBLIC_PATHS[s] for s in API_SERVICES}:
        problems.append(f"Ingress {INTERNAL_INGRESS}: routes more than the APIs: {sorted(routes)}")
    hosts = {r.get("host") for r in internal["spec"].get("rules", [])}
    base = _console_api_base(objs)
    host = re.sub(r"^https?://([^/:]+).*$", r"\1", base or "")
    if not base or base.startswith("https:") or hosts != {host}:
        problems.append(f"Ingress {INTERNAL_INGRESS}: hosts {sorted(map(str, hosts))} do not match the console's"
                        f" plain-HTTP GONGYI_API_BASE_URL {base!r}")
    if internal["metadata"].get("annotations", {}).get("nginx.ingress.kubernetes.io/force-ssl-redirect") == "true":
        problems.append(f"Ingress {INTERNAL_INGRESS}: a TLS redirect breaks the console's plain-HTTP calls")
    return problems


def _console_api_base(objs: list[Obj]) -> str | None:
    """GONGYI_API_BASE_URL as the console Deployment gets it (a literal value or its ConfigMaps)."""
    dep = _deployments(objs).get("console")
    if dep is None:
        return None
    ct = dep["spec"]["template"]["spec"]["containers"][0]
    for e in ct.get("env", []):
        if e["name"] == "GONGYI_API_BASE_URL" and "value" in e:
            return e["value"]
    configmaps = {o["metadata"]["name"]: o for o in of_kind(objs, "ConfigMap")}
    for src in ct.get("envFrom", []):
        name = src.get("configMapRef", {}).get("name")
        value = configmaps.get(name, {}).get("data", {}).get("GONGYI_API_BASE_URL")
        if value:
            return value
    return None


def check_network(objs: list[Obj]) -> list[str]:
    """A default deny-all exists, and every pod is selected by at least one allow policy."""
    problems = []
    nps = of_kind(objs, "NetworkPolicy")
    deny = [n for n in nps if n["spec"].get("podSelector") == {}
            and set(n["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
            and not n["spec"].get("ingress") and not n["spec"].get("egress")]
    if len(deny) != 1:
        problems.append(f"{len(deny)} default deny-all NetworkPolicies, expected 1")
    for obj, tpl in workloads(objs):
        labels = tpl.get("metadata", {}).get("labels", {})
        if not any(_matches(n["spec"].get("podSelector", {}), labels) for n in nps):
            problems.append(f"{ref(obj)}: no NetworkPolicy lets its pods talk to anything")
    return problems


# ---------------------------------------------------------------- environment


def container_env(objs: list[Obj], ct: Obj) -> tuple[set[str], list[str]]:
    """Names a container's environment will have, and problems with how they are set."""
    configmaps = {o["metadata"]["name"]: o for o in of_kind(objs, "ConfigMap")}
    names, problems = set(), []
    for src in ct.get("envFrom", []):
        if "configMapRef" in src:
            cm = configmaps.get(src["configMapRef"]["name"])
            if cm is None:
                problems.append(f"envFrom names a missing ConfigMap {src['configMapRef']['name']}")
            else:
                names |= set(cm.get("data", {}))
        else:
            problems.append("envFrom a Secret hides which variables are set; use env with secretKeyRef")
    for e in ct.get("env", []):
        names.add(e["name"])
        key = e.get("valueFrom", {}).get("secretKeyRef", {}).get("key")
        if key is not None and key != e["name"]:
            problems.append(f"secret key {key} should be named after its variable {e['name']}")
    return names, problems


def check_env(objs: list[Obj]) -> list[str]:
    problems = []
    for obj, tpl in workloads(objs):
        if not is_gongyi(tpl):
            continue
        for ct in tpl["spec"]["containers"]:
            names, issues = container_env(objs, ct)
            problems += [f"{ref(obj)}: {i}" for i in issues]
            unknown = names - DOCUMENTED_ENV
            if unknown:
                problems.append(f"{ref(obj)}: undocumented variables {sorted(unknown)}")
            svc = _service_of(obj, tpl)
            if obj["kind"] == "Deployment" and svc:
                missing = REQUIRED_ENV[svc] - names
                if missing:
                    problems.append(f"{ref(obj)}: missing {sorted(missing)}")
                foreign = {n for n in names if n.endswith("_DB_URL")} - {f"GONGYI_{svc.upper()}_DB_URL"}
                if foreign:
                    problems.append(f"{ref(obj)}: holds another service's database URL {sorted(foreign)}")
    return problems


# ---------------------------------------------------------------- docker-compose


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate_defaults(value: str) -> str:
    """${VAR:-default} -> default, other ${VAR...} -> '' (what compose gives with no .env)."""
    return _VAR.sub(lambda m: m.group(3) if (m.group(2) or "").endswith("-") else "", value)


def compose_gongyi_services(compose: Obj) -> dict[str, Obj]:
    return {name: s for name, s in compose.get("services", {}).items()
            if interpolate_defaults(str(s.get("image", ""))).split(":")[0] == IMAGE}


def _env_names(service: Obj) -> set[str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return {e.split("=", 1)[0] for e in env}
    return set(env)


def _healthcheck_cmd(service: Obj) -> str:
    test = service.get("healthcheck", {}).get("test", [])
    return " ".join(test) if isinstance(test, list) else str(test)


def check_compose(compose: Obj) -> list[str]:
    """Structure: every service is healthchecked or a one-shot; depends_on says which."""
    problems = []
    services = compose.get("services", {})
    one_shots = {n for n, s in services.items() if str(s.get("restart", "no")) == "no" and "healthcheck" not in s}
    healthy = {n for n, s in services.items() if "healthcheck" in s and not s["healthcheck"].get("disable")}
    for name, s in services.items():
        if name not in healthy | one_shots:
            problems.append(f"compose {name}: neither a healthcheck nor a one-shot (restart: 'no')")
        deps = s.get("depends_on", {})
        if isinstance(deps, list):
            problems.append(f"compose {name}: depends_on must give a condition for each dependency")
            continue
        for dep, cond in deps.items():
            want = "service_completed_successfully" if dep in one_shots else "service_healthy"
            if dep not in services:
                problems.append(f"compose {name}: depends on unknown service {dep}")
            elif (cond or {}).get("condition") != want:
                problems.append(f"compose {name}: depends_on {dep} should be condition {want}")
        if "curl" in _healthcheck_cmd(s) and name in compose_gongyi_services(compose):
            problems.append(f"compose {name}: the gongyi image has no curl; use python -c urllib")
    ours = compose_gongyi_services(compose)
    for name, s in ours.items():
        if s.get("read_only") is not True or "/tmp" not in s.get("tmpfs", []):
            problems.append(f"compose {name}: must run read_only with a tmpfs at /tmp, as in Kubernetes")
        if str(s.get("user", "")).split(":")[0] != str(APP_UID):
            problems.append(f"compose {name}: user must be {APP_UID}")
        unknown = _env_names(s) - DOCUMENTED_ENV
        if unknown:
            problems.append(f"compose {name}: undocumented variables {sorted(unknown)}")
    for svc in SERVICES:
        s = ours.get(svc)
        if s is None:
            problems.append(f"compose: no service {svc} on the gongyi image")
            continue
        if s.get("command") != ["serve", svc]:
            problems.append(f"compose {svc}: command must be ['serve', '{svc}']")
        if f"/api/{svc}/readyz" not in _healthcheck_cmd(s):
            problems.append(f"compose {svc}: healthcheck must probe /api/{svc}/readyz")
        if not _duration_at_least(s.get("stop_grace_period", "10s"), 35):
            problems.append(f"compose {svc}: stop_grace_period must leave the 30 s drain")
        deps = set(s.get("depends_on", {}))
        needed = {"postgres", "rabbitmq"} | {"media": {"minio"}, "review": {"elasticsearch"},
                                             "console": {"gateway", "mailpit"}}.get(svc, set())
        if not needed <= deps:
            problems.append(f"compose {svc}: depends_on lacks {sorted(needed - deps)}")
        if not any(ours.get(d, {}).get("command", [None])[0] == "migrate" for d in deps):
            problems.append(f"compose {svc}: does not wait for a migrate one-shot")
        missing = REQUIRED_ENV[svc] - _env_names(s)
        if missing:
            problems.append(f"compose {svc}: missing {sorted(missing)}")
    console = ours.get("console", {}).get("environment", {})
    if isinstance(console, dict) and console:
        # the APIs come through the gateway, as through the Ingress in a cluster
        if not str(console.get("GONGYI_API_BASE_URL", "")).startswith("http://gateway:"):
            problems.append("compose console: GONGYI_API_BASE_URL must point at the gateway")
        if "mailpit" not in interpolate_defaults(str(console.get("GONGYI_SMTP_URL", ""))):
            problems.append("compose console: GONGYI_SMTP_URL should default to the mailpit sink")
    migrate_env = {n for s in ours.values() if s.get("command") == ["migrate", "all"] for n in _env_names(s)}
    missing = {f"GONGYI_{svc.upper()}_DB_URL" for svc in SERVICES} - migrate_env
    if migrate_env and missing:
        # without it `migrate all` falls back to a SQLite file on the read-only root
        problems.append(f"compose migrate: missing {sorted(missing)}")
    es = interpolate_defaults(services.get("elasticsearch", {}).get("image", ""))
    if not re.search(r":8\.\d+\.\d+$", es):
        problems.append(f"compose elasticsearch: image {es!r} must pin an 8.x.y version for the 8.x client")
    return problems


def _duration_at_least(value: Any, seconds: int) -> bool:
    m = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", str(value))
    return bool(m) and int(m.group(1) or 0) * 60 + int(m.group(2) or 0) >= seconds


def check_compose_vs_k8s(compose: Obj, dev: list[Obj]) -> list[str]:
    """Same image, same variable names per service, same backend images."""
    problems = []
    ours = compose_gongyi_services(compose)
    deployments = _deployments(dev)
    for svc in SERVICES:
        dep, s = deployments.get(svc), ours.get(svc)
        if dep is None or s is None:
            continue  # reported by the other checks
        ct = dep["spec"]["template"]["spec"]["containers"][0]
        k8s_names, _ = container_env(dev, ct)
        if k8s_names != _env_names(s):
            problems.append(f"{svc}: env differs, only in k8s {sorted(k8s_names - _env_names(s))},"
                            f" only in compose {sorted(_env_names(s) - k8s_names)}")
        image = interpolate_defaults(s["image"])
        if ct["image"] != image:
            problems.append(f"{svc}: dev overlay image {ct['image']} != compose image {image}")
    for obj, tpl in workloads(dev):
        name = obj["metadata"]["name"]
        if name in COMPOSE_BACKENDS:
            want = interpolate_defaults(compose["services"].get(COMPOSE_BACKENDS[name], {}).get("image", ""))
            got = tpl["spec"]["containers"][0]["image"]
            if got != want:
                problems.append(f"{name}: dev overlay image {got} != compose image {want}")
    return problems


# ---------------------------------------------------------------- files beside


def check_files() -> list[str]:
    problems = []
    init = ROOT / "deploy/postgres/init-databases.sh"
    copy = K8S / "overlays/dev/postgres-init-databases.sh"
    if init.read_bytes() != copy.read_bytes():
        problems.append(f"{copy.relative_to(ROOT)} differs from {init.relative_to(ROOT)}")
    problems += check_rabbitmq_definitions(json.loads((ROOT / "deploy/rabbitmq/definitions.json").read_text()))
    problems += check_dockerfile((ROOT / "Dockerfile").read_text())
    for kustomization in K8S.rglob("kustomization.yaml"):
        text = kustomization.read_text()
        if re.search(r"secret\.example", text):
            problems.append(f"{kustomization.relative_to(ROOT)} references the example Secrets")
        if "secretGenerator" in text:
            problems.append(f"{kustomization.relative_to(ROOT)} generates Secrets; create them with kubectl")
    return problems


def check_rabbitmq_definitions(defs: Obj) -> list[str]:
    problems = []
    # Names and types as gongyi/events/topology.py declares them: a mismatch makes the later
    # declaration fail with PRECONDITION_FAILED.
    dlx, dlq = "gongyi.dead-letter", "gongyi.dead-letters"
    if not any(e["name"] == dlx and e.get("durable") and e.get("type") == "fanout"
               for e in defs.get("exchanges", [])):
        problems.append("definitions.json: no durable fanout exchange gongyi.dead-letter")
    if not any(q["name"] == dlq and q.get("durable") for q in defs.get("queues", [])):
        problems.append("definitions.json: no durable queue gongyi.dead-letters")
    if not any(b["source"] == dlx and b["destination"] == dlq for b in defs.get("bindings", [])):
        problems.append("definitions.json: the dead-letter queue is not bound to its exchange")
    policies = [p for p in defs.get("policies", []) if p["name"] == "gongyi-dlx"]
    if len(policies) != 1:
        return problems + ["definitions.json: no policy gongyi-dlx"]
    p = policies[0]
    if p["definition"].get("dead-letter-exchange") != dlx or p.get("apply-to") not in ("queues", "all"):
        problems.append("definitions.json: gongyi-dlx must set dead-letter-exchange on queues")
    pattern = re.compile(p["pattern"])
    if pattern.search(dlq):
        problems.append("definitions.json: gongyi-dlx applies to the dead-letter queue itself (loop)")
    if not pattern.search("evt-intake-application.submitted--review.on_application_submitted"):
        problems.append("definitions.json: gongyi-dlx does not match ordinary queues")
    return problems


def check_dockerfile(text: str) -> list[str]:
    problems = []
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if not any(ln == "ARG BASE_IMAGE=python:3.11-slim" for ln in lines):
        problems.append("Dockerfile: ARG BASE_IMAGE must default to python:3.11-slim")
    froms = [ln for ln in lines if ln.upper().startswith("FROM ")]
    if len(froms) < 2 or not all("${BASE_IMAGE}" in f for f in froms):
        problems.append("Dockerfile: needs a builder and a runtime stage, both FROM ${BASE_IMAGE}")
    last_stage = text[text.rfind("\nFROM "):]
    for required, why in (
        ('ENTRYPOINT ["gongyi"]', "exec-form entrypoint"),
        ('CMD ["serve", "intake"]', "default command"),
        ("USER 10001", "non-root numeric user"),
        ("PYTHONDONTWRITEBYTECODE=1", "no bytecode writes on a read-only root"),
        ("PYTHONUNBUFFERED=1", "unbuffered logs"),
        ("-c constraints.txt", "pinned install"),
    ):
        haystack = text if required == "-c constraints.txt" else last_stage
        if required not in haystack:
            problems.append(f"Dockerfile: missing {required} ({why})")
    return problems


# ---------------------------------------------------------------- observability


ALERT_METRICS = {
    "gongyi_outbox_oldest_age_seconds", "gongyi_events_dead_lettered_total", "gongyi_ready",
    "gongyi_http_request_duration_seconds_count", "gongyi_http_request_duration_seconds_bucket",
}
KNOWN_METRICS = {
    "gongyi_http_request_duration_seconds_bucket", "gongyi_http_request_duration_seconds_count",
    "gongyi_http_request_duration_seconds_sum", "gongyi_events_published_total",
    "gongyi_events_consumed_total", "gongyi_events_failed_total", "gongyi_events_dead_lettered_total",
    "gongyi_outbox_backlog", "gongyi_outbox_oldest_age_seconds", "gongyi_ready",
}
_DURATION = re.compile(r"^\d+[smhd]$")


def check_alert_rules(doc: Obj) -> list[str]:
    """The shape promtool would insist on, and that every alert uses metrics the code exports."""
    problems = []
    groups = doc.get("groups") if isinstance(doc, dict) else None
    if not groups:
        return ["alerts: no groups"]
    seen_alerts, used = set(), set()
    for g in groups:
        if not g.get("name") or not isinstance(g.get("rules"), list) or not g["rules"]:
            problems.append(f"alerts: group {g.get('name')!r} needs a name and rules")
            continue
        for r in g["rules"]:
            name = r.get("alert") or r.get("record")
            if not name or ("alert" in r) == ("record" in r):
                problems.append(f"alerts {g['name']}: a rule needs exactly one of alert/record")
                continue
            extra = set(r) - {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}
            if extra:
                problems.append(f"alerts {name}: unknown keys {sorted(extra)}")
            expr = r.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                problems.append(f"alerts {name}: no expr")
                continue
            if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}"):
                problems.append(f"alerts {name}: unbalanced brackets in expr")
            metrics = set(re.findall(r"\bgongyi_[a-z_]+\b", expr))
            if metrics - KNOWN_METRICS:
                problems.append(f"alerts {name}: unknown metrics {sorted(metrics - KNOWN_METRICS)}")
            used |= metrics
            if "alert" in r:
                if name in seen_alerts:
                    problems.append(f"alerts {name}: duplicate alert name")
                seen_alerts.add(name)
                if "for" in r and not _DURATION.match(str(r["for"])):
                    problems.append(f"alerts {name}: bad 'for' duration {r['for']!r}")
                if r.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
                    problems.append(f"alerts {name}: severity label must be critical, warning or info")
                if not r.get("annotations", {}).get("summary"):
                    problems.append(f"alerts {name}: needs a summary annotation")
    missing = ALERT_METRICS - used
    if missing:
        problems.append(f"alerts: nothing alerts on {sorted(missing)}")
    return problems


def check_dashboard(doc: Obj) -> list[str]:
    problems = []
    panels = doc.get("panels", [])
    if not panels:
        return ["dashboard: no panels"]
    used, ids = set(), set()
    for p in panels:
        if p.get("id") in ids:
            problems.append(f"dashboard: duplicate panel id {p.get('id')}")
        ids.add(p.get("id"))
        for t in p.get("targets", []):
            used |= set(re.findall(r"\bgongyi_[a-z_]+\b", t.get("expr", "")))
    if used - KNOWN_METRICS:
        problems.append(f"dashboard: unknown metrics {sorted(used - KNOWN_METRICS)}")
    # Every exported family shows up somewhere.
    families = {m.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum") for m in KNOWN_METRICS}
    shown = {m.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum") for m in used}
    if families - shown:
        problems.append(f"dashboard: no panel for {sorted(families - shown)}")
    return problems


def check_observability() -> list[str]:
    obs = ROOT / "deploy/observability"
    return (check_alert_rules(yaml.safe_load((obs / "prometheus-alerts.yaml").read_text()))
            + check_dashboard(json.loads((obs / "grafana-dashboard.json").read_text())))


# ---------------------------------------------------------------- main


def run_all(skip_schema: bool = False) -> dict[str, list[str]]:
    results: dict[str, list[str]] = {}
    compose = load_compose()
    rendered = {}
    for overlay in OVERLAYS:
        try:
            objs = rendered[overlay] = render(overlay)
        except RuntimeError as exc:
            results[f"{overlay}: render"] = [str(exc)]
            continue
        if not skip_schema:
            results[f"{overlay}: kubernetes-validate --strict {'/'.join(SCHEMA_VERSIONS)}"] = check_schema(objs)
        results[f"{overlay}: pod rules"] = check_pods(objs)
        results[f"{overlay}: one Deployment/Service/HPA/PDB/NetworkPolicy per service, Ingress"] = \
            check_services(objs)
        results[f"{overlay}: network policies"] = check_network(objs)
        results[f"{overlay}: environment variables"] = check_env(objs)
    results["docker-compose.yml structure"] = check_compose(compose)
    if "dev" in rendered:
        results["docker-compose.yml vs dev overlay"] = check_compose_vs_k8s(compose, rendered["dev"])
    results["Dockerfile, init script, broker definitions, kustomizations"] = check_files()
    results["observability"] = check_observability()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-schema", action="store_true", help="skip kubernetes-validate (faster)")
    args = parser.parse_args(argv)
    print(f"renderer: {' '.join(kustomize_command())}")
    results = run_all(skip_schema=args.skip_schema)
    failed = 0
    for name, problems in results.items():
        print(f"{'FAIL' if problems else 'ok  '} {name}")
        for p in problems:
            print(f"       - {p}")
        failed += bool(problems)
    print(f"deploy-check: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
