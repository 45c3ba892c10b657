"""Kustomize overlays: render, strict schema validation, and the policy checks of deploy-check,
each also run on a deliberately broken copy to prove it catches the breakage."""

import copy
from pathlib import Path

import deploy_check as dc
import pytest

ROOT = Path(__file__).resolve().parents[2]




@pytest.fixture(scope="module", params=dc.OVERLAYS)
def rendered(request):
    return request.param, dc.render(request.param)


@pytest.fixture(scope="module")
def dev():
    return dc.render("dev")


def find(objs, kind, name):
    [obj] = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


def container(objs, kind, name):
    return dc.pod_template(find(objs, kind, name))["spec"]["containers"][0]


def test_deploy_overlays_render_every_service_and_are_schema_valid(rendered):
    overlay, objs = rendered
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objs}
    for svc in dc.SERVICES:
        for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                     "NetworkPolicy", "ConfigMap", "ServiceAccount"):
            assert (kind, svc if kind != "ConfigMap" else f"{svc}-config") in kinds, (overlay, kind, svc)
        assert ("Job", f"{svc}-migrate") in kinds
    assert dc.check_schema(objs) == []


def test_deploy_schema_check_is_strict(dev):
    broken = copy.deepcopy(dev)
    dep = find(broken, "Deployment", "intake")
    dep["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}  # typo'd field
    problems = dc.check_schema([dep], versions=["1.37.0"])
    assert problems and "readinesProbe" in problems[0]


def test_deploy_policy_checks_pass(rendered):
    _, objs = rendered
    assert dc.check_pods(objs) == []
    assert dc.check_services(objs) == []
    assert dc.check_network(objs) == []
    assert dc.check_env(objs) == []


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda c, p: c["securityContext"].update(readOnlyRootFilesystem=False), "readOnlyRootFilesystem"),
        (lambda c, p: c["securityContext"].update(allowPrivilegeEscalation=True), "allowPrivilegeEscalation"),
        (lambda c, p: c["securityContext"]["capabilities"].update(drop=["NET_RAW"]), "drop ALL"),
        (lambda c, p: (c["securityContext"].pop("runAsUser"), p["securityContext"].update(runAsUser=0)),
         "runAsUser 0"),
        (lambda c, p: c["securityContext"].pop("seccompProfile") and p["securityContext"].pop("seccompProfile"),
         "seccompProfile"),
        (lambda c, p: c.pop("readinessProbe"), "no readinessProbe"),
        (lambda c, p: c["livenessProbe"]["httpGet"].update(path="/healthz"), "liveness path"),
        (lambda c, p: c["resources"].pop("limits"), "resources.limits"),
        (lambda c, p: c.update(volumeMounts=[]), "/tmp"),
        (lambda c, p: p.update(terminationGracePeriodSeconds=30), "terminationGracePeriodSeconds"),
        (lambda c, p: c.pop("lifecycle"), "preStop"),
        (lambda c, p: p.update(automountServiceAccountToken=True) or p.update(serviceAccountName="default"),
         "token"),
        (lambda c, p: c.update(image="nginx:1.27"), "not the gongyi image"),
    ],
)
def test_deploy_pod_rules_catch_breakage(dev, mutate, expected):
    broken = copy.deepcopy(dev)
    pod = find(broken, "Deployment", "media")["spec"]["template"]["spec"]
    mutate(pod["containers"][0], pod)
    problems = dc.check_pods(broken)
    assert any(expected in p for p in problems), problems


def test_deploy_jobs_and_backends_follow_pod_rules(dev):
    broken = copy.deepcopy(dev)
    find(broken, "Job", "review-migrate")["spec"]["template"]["spec"]["containers"][0]["securityContext"][
        "readOnlyRootFilesystem"] = False
    # A backend may only write its root filesystem with a stated reason.
    es = find(broken, "StatefulSet", "elasticsearch")["spec"]["template"]["metadata"]["annotations"]
    es.pop(dc.RO_EXCEPTION)
    problems = dc.check_pods(broken)
    assert any("Job/review-migrate" in p for p in problems)
    assert any("StatefulSet/elasticsearch" in p and "readOnlyRootFilesystem" in p for p in problems)


def test_deploy_exactly_one_pdb_hpa_policy_per_service(dev):
    extra_pdb = copy.deepcopy(find(dev, "PodDisruptionBudget", "review"))
    extra_pdb["metadata"]["name"] = "review-2"
    no_hpa = [o for o in dev if not (o["kind"] == "HorizontalPodAutoscaler" and o["metadata"]["name"] == "publish")]
    no_np = [o for o in dev if not (o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "intake")]
    assert any("review: 2 PodDisruptionBudgets" in p for p in dc.check_services(dev + [extra_pdb]))
    assert any("publish: 0 HorizontalPodAutoscalers" in p for p in dc.check_services(no_hpa))
    assert any("intake: 0 NetworkPolicies" in p for p in dc.check_services(no_np))
    assert any("Deployment/intake: no NetworkPolicy" in p for p in dc.check_network(no_np))


def test_deploy_network_policies_are_least_privilege(dev):
    assert any(
        n["spec"]["podSelector"] == {} and not n["spec"].get("egress") for n in dev if n["kind"] == "NetworkPolicy")
    no_deny = [o for o in dev if o["metadata"]["name"] != "default-deny-all"]
    assert any("default deny-all" in p for p in dc.check_network(no_deny))

    broken = copy.deepcopy(dev)
    egress = find(broken, "NetworkPolicy", "intake")["spec"]["egress"]
    egress.append({"to": [{"podSelector": {"matchLabels": {"gongyi.io/backend": "elasticsearch"}}}],
                   "ports": [{"protocol": "TCP", "port": 9200}]})
    assert any("intake" in p and "elasticsearch" in p for p in dc.check_services(broken))

    broken = copy.deepcopy(dev)
    find(broken, "NetworkPolicy", "media")["spec"]["egress"].append({"ports": [{"port": 443}]})
    assert any("opens the world" in p for p in dc.check_services(broken))

    broken = copy.deepcopy(dev)
    egress = find(broken, "NetworkPolicy", "review")["spec"]["egress"]
    find(broken, "NetworkPolicy", "review")["spec"]["egress"] = [
        r for r in egress if r["ports"][0]["port"] != 53]
    assert any("review" in p and "DNS" in p for p in dc.check_services(broken))


def test_deploy_env_names_are_documented_and_per_service(dev):
    broken = copy.deepcopy(dev)
    container(broken, "Deployment", "review")["env"].append({"name": "GONGYI_SEARCH_TIMEOUT", "value": "3"})
    assert any("undocumented" in p and "GONGYI_SEARCH_TIMEOUT" in p for p in dc.check_env(broken))

    broken = copy.deepcopy(dev)
    container(broken, "Deployment", "publish")["env"].append(
        {"name": "GONGYI_INTAKE_DB_URL", "valueFrom": {"secretKeyRef": {"name": "gongyi-intake",
                                                                          "key": "GONGYI_INTAKE_DB_URL"}}})
    assert any("another service's database" in p for p in dc.check_env(broken))

    broken = copy.deepcopy(dev)
    find(broken, "ConfigMap", "media-config")["data"].pop("GONGYI_S3_ENDPOINT")
    assert any("GONGYI_S3_ENDPOINT" in p and "missing" in p for p in dc.check_env(broken))

    broken = copy.deepcopy(dev)
    container(broken, "Deployment", "intake")["envFrom"].append({"secretRef": {"name": "gongyi-intake"}})
    assert any("envFrom a Secret" in p for p in dc.check_env(broken))


def test_deploy_ingress_routes_each_service(dev):
    ingress = find(dev, "Ingress", "gongyi")
    paths = {p["path"]: p["backend"]["service"]["name"] for p in ingress["spec"]["rules"][0]["http"]["paths"]}
    assert paths == {**{f"/api/{s}/": s for s in dc.API_SERVICES}, "/console/": "console"}
    broken = copy.deepcopy(dev)
    find(broken, "Ingress", "gongyi")["spec"]["rules"][0]["http"]["paths"][1]["backend"]["service"]["name"] = "x"
    assert any("/api/media/" in p for p in dc.check_ingress(broken))
    broken = copy.deepcopy(dev)
    paths = find(broken, "Ingress", "gongyi")["spec"]["rules"][0]["http"]["paths"]
    paths[:] = [p for p in paths if p["path"] != "/console/"]
    assert any("/console/ does not route to Service console" in p for p in dc.check_ingress(broken))


def test_deploy_console_reaches_the_apis_through_the_controller(rendered):
    overlay, objs = rendered
    # The console calls /api/<service>/ at the controller's in-cluster name; the internal
    # Ingress serves exactly those routes for exactly that host, with no TLS redirect.
    base = find(objs, "ConfigMap", "console-config")["data"]["GONGYI_API_BASE_URL"]
    assert base == "http://ingress-nginx-controller.ingress-nginx.svc.cluster.local"
    internal = find(objs, "Ingress", dc.INTERNAL_INGRESS)
    [rule] = internal["spec"]["rules"]
    assert rule["host"] == "ingress-nginx-controller.ingress-nginx.svc.cluster.local"
    assert {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]} == {
        f"/api/{s}/": s for s in dc.API_SERVICES}
    assert "nginx.ingress.kubernetes.io/force-ssl-redirect" not in internal["metadata"].get("annotations", {})
    if overlay == "prod":
        # the public Ingress does redirect, which is why the internal one is separate
        assert find(objs, "Ingress", "gongyi")["metadata"]["annotations"][
            "nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"

    broken = copy.deepcopy(objs)
    find(broken, "ConfigMap", "console-config")["data"]["GONGYI_API_BASE_URL"] = "http://gongyi.example.org"
    assert any("do not match the console's" in p for p in dc.check_ingress(broken))
    broken = copy.deepcopy(objs)
    find(broken, "Ingress", dc.INTERNAL_INGRESS)["spec"]["rules"][0]["http"]["paths"].append(
        {"path": "/console/", "pathType": "Prefix", "backend": {"service": {"name": "console",
                                                                             "port": {"name": "http"}}}})
    assert any("routes more than the APIs" in p for p in dc.check_ingress(broken))
    broken = [o for o in objs if not (o["kind"] == "Ingress" and o["metadata"]["name"] == dc.INTERNAL_INGRESS)]
    assert any(f"no Ingress {dc.INTERNAL_INGRESS}" in p for p in dc.check_ingress(broken))


def test_deploy_console_pod_and_egress(dev):
    ct = container(dev, "Deployment", "console")
    assert ct["args"] == ["serve", "console"]
    assert ct["livenessProbe"]["httpGet"]["path"] == "/api/console/healthz"
    assert ct["readinessProbe"]["httpGet"]["path"] == "/api/console/readyz"
    assert container(dev, "Job", "console-migrate")["args"] == ["migrate", "console"]
    env = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in ct["env"]}
    assert env["GONGYI_CONSOLE_DB_URL"] == env["GONGYI_SMTP_URL"] == env["GONGYI_AMQP_URI"] == "gongyi-console"
    egress = find(dev, "NetworkPolicy", "console")["spec"]["egress"]
    smtp = [r for r in egress if "ipBlock" in r["to"][0]]
    assert [{p["port"] for p in r["ports"]} for r in smtp] == [{25, 465, 587}]
    assert dc.PRIVATE_RANGES <= set(smtp[0]["to"][0]["ipBlock"]["except"])

    def broken_console(change):
        broken = copy.deepcopy(dev)
        change(find(broken, "NetworkPolicy", "console")["spec"]["egress"])
        return dc.check_services(broken)

    def smtp_rule(egress):
        return next(r for r in egress if "ipBlock" in r["to"][0])

    assert any("does not except" in p for p in broken_console(lambda e: smtp_rule(e)["to"][0]["ipBlock"].pop("except")))
    assert any("only SMTP" in p for p in broken_console(lambda e: smtp_rule(e)["ports"].append({"port": 443})))
    assert any("expected ['ingress-nginx', 'smtp']" in p
               for p in broken_console(lambda e: e.remove(smtp_rule(e))))
    # a relay on a private address is allowed as a narrow block on the SMTP ports
    assert not broken_console(lambda e: smtp_rule(e)["to"][0].update(ipBlock={"cidr": "10.1.2.3/32"}))
    # no other service gets the controller or the internet
    broken = copy.deepcopy(dev)
    find(broken, "NetworkPolicy", "publish")["spec"]["egress"].append(copy.deepcopy(smtp_rule(egress)))
    assert any("publish" in p and "beyond the backends ['smtp']" in p for p in dc.check_services(broken))
    broken = copy.deepcopy(dev)
    find(broken, "NetworkPolicy", "intake")["spec"]["egress"].append(
        {"to": [{"podSelector": {"matchLabels": {"app": "anything"}}}], "ports": [{"port": 8000}]})
    assert any("intake" in p and "unexpected peer" in p for p in dc.check_services(broken))


def test_deploy_overlays_differ_where_they_should():
    dev, prod = dc.render("dev"), dc.render("prod")
    assert container(dev, "Deployment", "intake")["image"] == "gongyi:dev"
    assert container(prod, "Deployment", "intake")["image"].startswith("registry.example.org/gongyi/gongyi:")
    assert find(dev, "HorizontalPodAutoscaler", "media")["spec"]["minReplicas"] == 1
    assert find(prod, "HorizontalPodAutoscaler", "media")["spec"]["minReplicas"] >= 2
    # Backends are StatefulSets only in dev; prod relies on operators or managed services.
    assert {o["metadata"]["name"] for o in dev if o["kind"] == "StatefulSet"} == {
        "postgresql", "rabbitmq", "minio", "elasticsearch"}
    assert not [o for o in prod if o["kind"] == "StatefulSet"]
    for objs in (dev, prod):
        [ns] = [o for o in objs if o["kind"] == "Namespace"]
        assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        assert {o["metadata"].get("namespace") for o in objs if o["kind"] not in (
            "Namespace", "PriorityClass")} == {ns["metadata"]["name"]}
        # Secrets are created with kubectl, never rendered from git.
        assert not [o for o in objs if o["kind"] == "Secret"]
    # In prod the search URL carries ECK credentials, so it comes from the Secret.
    env = {e["name"]: e for e in container(prod, "Deployment", "review")["env"]}
    assert env["GONGYI_SEARCH_URL"]["valueFrom"]["secretKeyRef"]["name"] == "gongyi-review"


def test_deploy_secret_example_is_only_an_example():
    import yaml

    docs = list(yaml.safe_load_all((ROOT / "deploy/k8s/base/secret.example.yaml").read_text()))
    keys = {k for d in docs for k in d["stringData"]}
    assert keys <= dc.DOCUMENTED_ENV
    # Every secretKeyRef in the manifests names a Secret and key the example documents.
    refs = set()
    for objs in (dc.render("prod"),):
        for _, tpl in dc.workloads(objs):
            for ct in tpl["spec"]["containers"]:
                for e in ct.get("env", []):
                    r = e.get("valueFrom", {}).get("secretKeyRef")
                    if r:
                        refs.add((r["name"], r["key"]))
    example = {(d["metadata"]["name"], k) for d in docs for k in d["stringData"]}
    assert refs - example == set() or refs - example == {("gongyi-review", "GONGYI_SEARCH_URL")}
    assert ("gongyi-console", "GONGYI_SMTP_URL") in refs
    assert dc.check_files() == []
