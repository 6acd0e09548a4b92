"""infra/k8s without a cluster: generated files are current, every rendered object (base, each
overlay, the load-test kustomization) validates against the Kubernetes API schema of a pinned
version (kubernetes-validate, offline) or the operator's documented fields (CRDs), the
PrometheusRule passes promtool, the AlertmanagerConfig's routes pass amtool, and ports, probes and
environment names agree with the native stack definition (infra/local/services.py)."""

from __future__ import annotations

import copy
import subprocess
import typing
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from app.core.config import Settings
from infra.k8s import app as k8s_app
from infra.k8s import generate, loadtest
from infra.k8s.kustomize import KustomizeError, build, strategic_merge
from infra.k8s.monitoring import ALERTING_SECRET, operator_alertmanager_config
from infra.local.services import PORTS, Ports, backend_service, frontend_service
from infra.tests.operator_schemas import SCHEMAS
from monitoring.profiles import PRODUCTION
from monitoring.rules.catalogue import all_alerts

K8S = Path(generate.__file__).resolve().parent
ROOT = K8S.parents[1]
KUBERNETES_VERSION = "1.34.0"  # the API schema the manifests must satisfy (kubernetes-validate)
TARGETS = ["base", "overlays/staging", "overlays/production", "loadtest", "prometheus"]
NAMESPACES = {"overlays/staging": "northstar-staging", "overlays/production": "northstar"}
NATIVE = Ports()
BACKEND = backend_service(NATIVE, {})
FRONTEND = frontend_service(NATIVE)


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return {target: build(K8S / target) for target in TARGETS}


def one(objects: list[dict], kind: str, name: str) -> dict:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def containers(obj: dict) -> list[dict]:
    spec = pod_spec(obj)
    return spec.get("initContainers", []) + spec["containers"]


def test_generated_manifests_are_current():
    assert generate.diff() == [], "run: .venv/bin/python -m infra.k8s.generate"


def validate(obj: dict) -> None:
    schema = SCHEMAS.get((obj["apiVersion"], obj["kind"]))
    if schema is not None:
        jsonschema.Draft202012Validator(schema).validate(obj)
    else:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("target", TARGETS)
def test_every_object_validates(target, rendered):
    assert rendered[target]
    for obj in rendered[target]:
        try:
            validate(obj)
        except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as exc:
            pytest.fail(f"{target}: {obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")


def test_validation_catches_mistakes(rendered):
    objects = rendered["overlays/production"]
    deployment = copy.deepcopy(one(objects, "Deployment", "backend"))
    pod_spec(deployment)["containers"][0]["readinessprobe"] = pod_spec(deployment)["containers"][0].pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)
    checked = [(objects, kind, name) for kind, name in (("AlertmanagerConfig", "northstar"), ("ServiceMonitor", "backend"),
                                                        ("PrometheusRule", "northstar"))]
    for objs, kind, name in [*checked, (rendered["prometheus"], "Prometheus", "northstar")]:
        broken = copy.deepcopy(one(objs, kind, name))
        broken["spec"]["unknownField"] = True
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)
    amc = copy.deepcopy(one(objects, "AlertmanagerConfig", "northstar"))
    amc["spec"]["route"]["routes"][0]["recevier"] = "typo in a child route"
    with pytest.raises(jsonschema.ValidationError):
        validate(amc)


def test_renderer_refuses_what_it_does_not_implement(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources: []\nreplicas: [{name: backend, count: 3}]\n")
    with pytest.raises(KustomizeError, match="replicas"):
        build(tmp_path)
    base = {"containers": [{"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}]}
    patch = {"containers": [{"name": "a", "env": [{"name": "Y", "value": "3"}]}]}
    assert strategic_merge(base, patch)["containers"][0]["env"] == [{"name": "X", "value": "1"}, {"name": "Y", "value": "3"}]


# --- the native stack definition is the source of ports, probes and env names -----------------

def _url_parts(url: str) -> tuple[int, str]:
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    return parts.port, parts.path or "/"


def test_backend_ports_probes_and_env_agree_with_the_native_stack(rendered):
    objects = rendered["overlays/production"]
    deployment = one(objects, "Deployment", "backend")
    (backend,) = [c for c in pod_spec(deployment)["containers"] if c["name"] == "backend"]
    api, metrics = BACKEND.ports
    assert (api, metrics) == (PORTS[0].default, PORTS[1].default)
    assert {p["name"]: p["containerPort"] for p in backend["ports"]} == {"http": api, "metrics": metrics}
    ready_port, ready_path = _url_parts(BACKEND.ready_urls[0])
    metrics_port, metrics_path = _url_parts(BACKEND.ready_urls[1])
    assert ready_path == "/ready"
    for probe in ("startupProbe", "readinessProbe"):
        assert backend[probe]["httpGet"] == {"path": ready_path, "port": ready_port}
    # Liveness must not depend on PostgreSQL or Redis: never /health (503 on a Redis loss), nor /ready.
    assert backend["livenessProbe"]["httpGet"] == {"path": metrics_path, "port": metrics_port}
    assert backend["command"] == ["gunicorn", *BACKEND.argv[1:]]
    env = {e["name"]: e for e in backend["env"]}
    assert env["GUNICORN_BIND"]["value"].endswith(f":{api}") and env["METRICS_PORT"]["value"] == str(metrics)
    assert set(BACKEND.env) <= set(env), "every variable the native stack sets for gunicorn"
    settings = set(typing.get_type_hints(Settings))
    gunicorn_conf = (ROOT / "backend/gunicorn_conf.py").read_text()
    unknown = {n for n in env if n not in settings and f'"{n}"' not in gunicorn_conf}
    assert not unknown, f"env names the backend does not read: {unknown}"
    assert env["FAULT_INJECTION_ENABLED"]["value"] == "false"
    assert env["ENVIRONMENT"]["value"] == "production"
    service = one(objects, "Service", "backend")
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {"http": api, "metrics": metrics}


def test_frontend_ports_probes_and_env_agree_with_the_native_stack(rendered):
    objects = rendered["overlays/production"]
    (frontend,) = pod_spec(one(objects, "Deployment", "frontend"))["containers"]
    (port,) = FRONTEND.ports
    ready_port, ready_path = _url_parts(FRONTEND.ready_urls[0])
    assert frontend["ports"] == [{"name": "http", "containerPort": port}]
    assert frontend["readinessProbe"]["httpGet"] == {"path": ready_path, "port": ready_port}
    env = {e["name"]: e.get("value") for e in frontend["env"]}
    assert env["PORT"] == str(port) and env["BACKEND_URL"] == f"http://backend:{BACKEND.ports[0]}"
    assert set(env) <= set(FRONTEND.env) | {"SENTRY_DSN", "ENVIRONMENT", "HOME"}
    assert frontend["command"][1:] == [a if a != "127.0.0.1" else "0.0.0.0" for a in FRONTEND.argv[3:]]
    assert frontend["command"][frontend["command"].index("-p") + 1] == str(port)
    ingress = one(objects, "Ingress", "northstar")
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"] == {"name": "frontend",
                                                                                     "port": {"number": port}}


def test_backend_writes_only_to_empty_dirs_and_drains(rendered):
    deployment = one(rendered["overlays/production"], "Deployment", "backend")
    spec = pod_spec(deployment)
    (backend,) = [c for c in spec["containers"] if c["name"] == "backend"]
    empty_dirs = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
    mounts = {m["mountPath"]: m["name"] for m in backend["volumeMounts"]}
    multiproc = next(e["value"] for e in backend["env"] if e["name"] == "PROMETHEUS_MULTIPROC_DIR")
    assert mounts[multiproc] in empty_dirs and mounts["/tmp"] in empty_dirs
    assert backend["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    pre_stop = int(backend["lifecycle"]["preStop"]["exec"]["command"][1])
    graceful = int(next(e["value"] for e in backend["env"] if e["name"] == "GRACEFUL_TIMEOUT"))
    assert spec["terminationGracePeriodSeconds"] > pre_stop + graceful


@pytest.mark.parametrize("target", TARGETS)
def test_every_container_is_non_root_read_only_and_bounded(target, rendered):
    for obj in rendered[target]:
        if obj["kind"] not in ("Deployment", "Job"):
            continue
        for c in containers(obj):
            sc = c["securityContext"]
            where = f"{obj['kind']}/{obj['metadata']['name']}/{c['name']}"
            assert sc["runAsNonRoot"] and isinstance(sc["runAsUser"], int) and sc["runAsUser"] > 0, where
            assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"], where
            assert sc["capabilities"] == {"drop": ["ALL"]}, where
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]) & set(c["resources"]["limits"]), where


def test_migrations_run_before_the_new_backend_serves(rendered):
    objects = rendered["overlays/production"]
    job = one(objects, "Job", "northstar-migrate")
    (migrate,) = pod_spec(job)["containers"]
    assert migrate["command"] == ["alembic", "upgrade", "head"]
    assert pod_spec(job)["restartPolicy"] == "Never"
    (wait,) = pod_spec(one(objects, "Deployment", "backend"))["initContainers"]
    assert "alembic heads" in wait["command"][-1] and "alembic current" in wait["command"][-1]
    assert migrate["image"] == wait["image"] == pod_spec(one(objects, "Deployment", "backend"))["containers"][0]["image"]


def test_secrets_are_referenced_never_committed(rendered):
    refs = set()
    for target, objects in rendered.items():
        assert not [o for o in objects if o["kind"] == "Secret"], f"{target} commits a Secret"
        for obj in objects:
            if obj["kind"] in ("Deployment", "Job"):
                for c in containers(obj):
                    refs |= {e["valueFrom"]["secretKeyRef"]["name"] for e in c.get("env", [])
                             if "secretKeyRef" in e.get("valueFrom", {})}
    assert refs == {k8s_app.BACKEND_SECRET}
    amc = one(rendered["overlays/production"], "AlertmanagerConfig", "northstar")
    text = yaml.safe_dump(amc)
    assert {r["name"] for r in _secret_refs(amc["spec"])} == {ALERTING_SECRET}
    for leak in ("hooks.slack.com", "routing_key:", "api_url:", "password"):
        assert leak not in text
    for path in K8S.rglob("*.yaml"):
        assert "kind: Secret\n" not in path.read_text(), path


def _secret_refs(node: object) -> list[dict]:
    if isinstance(node, dict):
        found = [node] if set(node) == {"name", "key"} else []
        return found + [r for v in node.values() for r in _secret_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _secret_refs(v)]
    return []


def test_metrics_port_only_from_the_monitoring_namespace(rendered):
    policy = one(rendered["overlays/production"], "NetworkPolicy", "backend")
    api, metrics = BACKEND.ports
    by_port = {rule["ports"][0]["port"]: rule["from"] for rule in policy["spec"]["ingress"]}
    assert by_port[metrics] == [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": k8s_app.MONITORING_NAMESPACE}}}]
    assert all("namespaceSelector" not in peer for peer in by_port[api])
    assert set(by_port) == {api, metrics}


def test_overlays_set_namespace_images_host_and_environment(rendered):
    hosts = set()
    for target, namespace in NAMESPACES.items():
        objects = rendered[target]
        assert {o["metadata"]["namespace"] for o in objects} == {namespace}
        images = {c["image"] for o in objects if o["kind"] in ("Deployment", "Job") for c in containers(o)}
        assert all("/" in i and ":" in i for i in images), images
        (host,) = {r["host"] for r in one(objects, "Ingress", "northstar")["spec"]["rules"]}
        hosts.add(host)
        hpa = one(objects, "HorizontalPodAutoscaler", "backend")["spec"]
        assert hpa["minReplicas"] >= 2, "a PodDisruptionBudget with one replica blocks node drains"
        assert not any(o["kind"] == "Deployment" and "replicas" in o["spec"] for o in objects), "the HPA owns replicas"
    assert len(hosts) == 2
    assert not [o for o in rendered["overlays/production"] if "locust" in o["metadata"]["name"]]


def test_locust_is_distributed_and_aimed_at_staging_only(rendered):
    objects = rendered["loadtest"]
    assert {o["metadata"]["namespace"] for o in objects} == {NAMESPACES["overlays/staging"]}
    (cm,) = [o for o in objects if o["kind"] == "ConfigMap"]
    assert cm["data"]["locustfile.py"] == (ROOT / "loadtests/locustfile.py").read_text()
    master, worker = one(objects, "Deployment", "locust-master"), one(objects, "Deployment", "locust-worker")
    for d in (master, worker):
        assert pod_spec(d)["volumes"][0]["configMap"]["name"] == cm["metadata"]["name"]
    (m,), (w,) = pod_spec(master)["containers"], pod_spec(worker)["containers"]
    assert "--master" in m["args"] and "--worker" in w["args"]
    assert "--master-host=locust-master" in w["args"]
    service = one(objects, "Service", "locust-master")
    assert {p["port"] for p in service["spec"]["ports"]} == set(loadtest.MASTER_PORTS.values())
    staging_backend = one(rendered["overlays/staging"], "Service", "backend")
    assert f"--host=http://{staging_backend['metadata']['name']}:{BACKEND.ports[0]}" in m["args"]


# --- the monitoring objects come from the one rule catalogue and routing source -----------------

@pytest.fixture(scope="module")
def rule_file(rendered, tmp_path_factory) -> Path:
    rule = one(rendered["overlays/production"], "PrometheusRule", "northstar")
    path = tmp_path_factory.mktemp("rules") / "northstar.rules.yml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}, sort_keys=False))
    return path


def test_prometheus_rule_is_the_production_catalogue(rule_file):
    committed = ROOT / "monitoring/prometheus/rules/production/northstar.rules.yml"
    assert yaml.safe_load(rule_file.read_text()) == yaml.safe_load(committed.read_text())
    result = subprocess.run(["promtool", "check", "rules", str(rule_file)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


# The groups equal the committed production rules, whose every promtool unit test runs in
# monitoring/tests; here a few of them run against the PrometheusRule's own copy (time budget).
@pytest.mark.parametrize("alert", ["HighErrorRate", "ServiceDown", "NewErrorType"])
def test_promtool_unit_tests_pass_on_the_prometheus_rule(alert, rule_file, tmp_path):
    test = yaml.safe_load((ROOT / f"monitoring/prometheus/tests/production/{alert}.test.yml").read_text())
    test["rule_files"] = [str(rule_file)]
    (tmp_path / "t.yml").write_text(yaml.safe_dump(test, sort_keys=False))
    result = subprocess.run(["promtool", "test", "rules", "t.yml"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]


@pytest.fixture(scope="module")
def operator_config(rendered, tmp_path_factory) -> tuple[Path, str]:
    namespace = NAMESPACES["overlays/production"]
    amc = one(rendered["overlays/production"], "AlertmanagerConfig", "northstar")
    path = tmp_path_factory.mktemp("am") / "alertmanager.yml"
    path.write_text(yaml.safe_dump(operator_alertmanager_config(amc, namespace), sort_keys=False))
    return path, f"{namespace}/{amc['metadata']['name']}/"


def amtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["amtool", *args], capture_output=True, text=True, timeout=60)


def test_alertmanager_config_renders_a_valid_config(operator_config):
    path, _ = operator_config
    result = amtool("check-config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_catalogue_alert_reaches_its_receivers_through_the_operator_config(operator_config):
    path, prefix = operator_config
    namespace = NAMESPACES["overlays/production"]
    expected = {"critical": ["pagerduty", "slack-alerts"], "warning": ["slack-alerts"]}
    for alert in all_alerts(PRODUCTION):
        receivers = ["slack-engineering"] if alert.alert == "NewErrorType" else expected[alert.severity]
        result = amtool("config", "routes", "test", f"--config.file={path}",
                        f"--verify.receivers={','.join(prefix + r for r in receivers)}", f"namespace={namespace}",
                        f"alertname={alert.alert}", f"severity={alert.severity}", "service=backend")
        assert result.returncode == 0, (alert.alert, result.stdout, result.stderr)
    # The operator scopes the config to its namespace: an alert without that label is not routed
    # here (README: the Prometheus must keep the `namespace` label on alerts).
    result = amtool("config", "routes", "test", f"--config.file={path}", "--verify.receivers=null",
                    "alertname=HighErrorRate", "severity=critical", "service=backend")
    assert result.returncode == 0, result.stdout + result.stderr


def test_service_monitors_keep_the_job_labels_the_rules_select(rendered):
    from monitoring.prometheus_config import JOBS_BY_NAME
    objects = rendered["overlays/production"]
    for name, port, job in (("backend", "metrics", "backend"), ("frontend", "http", "nextjs")):
        (endpoint,) = one(objects, "ServiceMonitor", name)["spec"]["endpoints"]
        service_ports = {p["name"] for p in one(objects, "Service", name)["spec"]["ports"]}
        assert endpoint["port"] == port and port in service_ports
        assert endpoint["path"] == JOBS_BY_NAME[job].metrics_path
        relabel = {r["targetLabel"]: r["replacement"] for r in endpoint["relabelings"]}
        assert relabel == {"job": job, "service": JOBS_BY_NAME[job].service}
    rules = yaml.safe_dump(one(objects, "PrometheusRule", "northstar")["spec"])
    assert 'job="backend"' in rules and 'job="nextjs"' in rules


def test_dashboards_are_config_maps_for_the_grafana_sidecar(rendered):
    maps = [o for o in rendered["overlays/production"] if o["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    files = sorted((ROOT / "monitoring/grafana/dashboards").glob("*.json"))
    assert sorted(name for m in maps for name in m["data"]) == [f.name for f in files]
    for m in maps:
        for name, text in m["data"].items():
            assert text == (ROOT / "monitoring/grafana/dashboards" / name).read_text()
            # `kubectl apply` keeps a copy in an annotation limited to 256 KiB
            assert len(text.encode()) < 200_000, name


# --- monitoring-signals: exporters and the Prometheus' feature flags, from the native definition ---

def test_prometheus_enables_the_native_feature_flags(rendered):
    from infra.local.services import PROMETHEUS_FEATURES, prometheus_service

    native = prometheus_service(NATIVE, Path("/c"), Path("/s"), "1s").argv
    assert PROMETHEUS_FEATURES and all(f"--enable-feature={f}" in native for f in PROMETHEUS_FEATURES)
    assert "exemplar-storage" in PROMETHEUS_FEATURES
    spec = one(rendered["prometheus"], "Prometheus", "northstar")["spec"]
    assert spec["enableFeatures"] == list(PROMETHEUS_FEATURES)
    values = yaml.safe_load((K8S / "prometheus" / "kube-prometheus-stack-values.yaml").read_text())
    assert values["prometheus"]["prometheusSpec"]["enableFeatures"] == list(PROMETHEUS_FEATURES)
    # it selects what base/ labels for it, and its service account is the one bound to the ClusterRole
    monitors = [o for o in rendered["base"] if o["kind"] in ("ServiceMonitor", "PrometheusRule")]
    assert monitors and all(spec["serviceMonitorSelector"]["matchLabels"].items() <= o["metadata"]["labels"].items()
                            for o in monitors)
    binding = one(rendered["prometheus"], "ClusterRoleBinding", spec["serviceAccountName"])
    assert binding["subjects"][0]["name"] == spec["serviceAccountName"]


def test_exporters_are_scraped_with_the_native_jobs_and_fenced(rendered):
    from infra.k8s.monitoring import EXPORTER_IMAGES
    from infra.local.services import postgres_exporter_service, redis_exporter_service

    objects = rendered["overlays/production"]
    native = {"postgres-exporter": postgres_exporter_service(NATIVE, "postgresql://x@127.0.0.1/x"),
              "redis-exporter": redis_exporter_service(NATIVE, "redis://127.0.0.1:6379")}
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name, svc in native.items():
        (port,) = svc.ports
        (container,) = pod_spec(one(objects, "Deployment", name))["containers"]
        assert container["ports"] == [{"name": "metrics", "containerPort": port}]
        assert container["image"] == EXPORTER_IMAGES[name] == compose[name]["image"]
        assert set(container["env"][0]) == {"name", "valueFrom"}  # the DSN comes from the Secret
        assert one(objects, "Service", name)["spec"]["ports"][0]["port"] == port
        monitor = one(objects, "ServiceMonitor", name)
        assert {"targetLabel": "job", "action": "replace", "replacement": name} in monitor["spec"]["endpoints"][0]["relabelings"]
        policy = one(objects, "NetworkPolicy", name)
        assert policy["spec"]["ingress"] == [{"from": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": k8s_app.MONITORING_NAMESPACE}}}], "ports": [{"protocol": "TCP", "port": port}]}]
