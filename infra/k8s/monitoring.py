"""Prometheus Operator / kube-prometheus-stack objects, from the monitoring sources of the repo:

- PrometheusRule: the groups of the one rule catalogue (monitoring/rules/catalogue.py, production
  profile) -- the same groups as monitoring/prometheus/rules/production/.
- AlertmanagerConfig: the routing tree of monitoring/alertmanager_config.py (production), in the
  operator's v1alpha1 shape; Slack webhook URLs and the PagerDuty routing key come from a Secret.
- ServiceMonitor: scrapes the backend's metrics port and the frontend's metrics path, with the
  `job` and `service` labels that the rules and dashboards select on (monitoring/prometheus_config.py
  JOBS), so the same rules work unchanged in the cluster.
- Dashboards (monitoring/grafana/dashboards/*.json) as ConfigMaps labelled for Grafana's sidecar.

`operator_alertmanager_config()` renders the AlertmanagerConfig back into an alertmanager.yml the
way the operator merges it (a first-level route matching the object's namespace, receivers named
`<namespace>/<name>/<receiver>`), so that `amtool config routes test` can check it here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from infra.k8s.app import BACKEND_SECRET, MONITORING_NAMESPACE, labels, selector
from infra.local.services import HOST, PROMETHEUS_FEATURES, Ports, postgres_exporter_service, redis_exporter_service
from monitoring import alertmanager_config
from monitoring.profiles import PRODUCTION
from monitoring.prometheus_config import JOBS_BY_NAME
from monitoring.rules import catalogue

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "monitoring/grafana/dashboards"
ALERTING_SECRET = "northstar-alerting"  # created by the team, never committed (README)
# kube-prometheus-stack's Prometheus selects rules and monitors by its Helm release label.
OPERATOR_LABELS = {"release": "kube-prometheus-stack"}
AMC_NAME = "northstar"


def _meta(name: str, component: str, extra: dict | None = None) -> dict:
    return {"name": name, "labels": {**labels(name, component), **OPERATOR_LABELS, **(extra or {})}}


def _relabel_job(job: str) -> list[dict]:
    """`job` and `service` as the native Prometheus sets them (monitoring/prometheus_config.py)."""
    return [{"action": "replace", "targetLabel": "job", "replacement": job},
            {"action": "replace", "targetLabel": "service", "replacement": JOBS_BY_NAME[job].service}]


def service_monitors() -> list[dict]:
    interval = PRODUCTION.scrape_interval
    backend = JOBS_BY_NAME["backend"]
    nextjs = JOBS_BY_NAME["nextjs"]
    return [
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": _meta("backend", "api"),
         "spec": {"selector": {"matchLabels": selector("backend")},
                  "endpoints": [{"port": "metrics", "path": backend.metrics_path, "interval": interval,
                                 "scrapeTimeout": PRODUCTION.scrape_timeout, "relabelings": _relabel_job("backend")}]}},
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": _meta("frontend", "web"),
         "spec": {"selector": {"matchLabels": selector("frontend")},
                  "endpoints": [{"port": "http", "path": nextjs.metrics_path, "interval": interval,
                                 "scrapeTimeout": PRODUCTION.scrape_timeout, "relabelings": _relabel_job("nextjs")}]}},
    ]


def rule_groups() -> list[dict]:
    groups = []
    for content in catalogue.rule_groups(PRODUCTION).values():
        groups += content["groups"]
    return groups


def prometheus_rule() -> dict:
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": _meta("northstar", "alerting"), "spec": {"groups": rule_groups()}}


# --- Alertmanager routing ---------------------------------------------------------------------

_MATCHER = re.compile(r'^([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)"(.*)"$')


def _matcher(text: str) -> dict:
    name, op, value = _MATCHER.match(text).groups()
    return {"name": name, "matchType": op, "value": value}


def _route(route: dict) -> dict:
    out: dict = {}
    keys = {"receiver": "receiver", "group_by": "groupBy", "group_wait": "groupWait",
            "group_interval": "groupInterval", "repeat_interval": "repeatInterval", "continue": "continue",
            "active_time_intervals": "activeTimeIntervals", "mute_time_intervals": "muteTimeIntervals"}
    for key, value in route.items():
        if key == "matchers":
            out["matchers"] = [_matcher(m) for m in value]
        elif key == "routes":
            out["routes"] = [_route(r) for r in value]
        else:
            out[keys[key]] = value
    return out


def _secret(key: str) -> dict:
    return {"name": ALERTING_SECRET, "key": key}


def _file_key(path: str) -> str:
    """`/etc/alertmanager/secrets/<file>` -> the Secret's key <file> (same names)."""
    name = path.rsplit("/", 1)[1]
    assert name in alertmanager_config.SECRET_FILES.values(), path
    return name


def _receiver(receiver: dict) -> dict:
    out: dict = {"name": receiver["name"]}
    for slack in receiver.get("slack_configs", []):
        out.setdefault("slackConfigs", []).append({
            "apiURL": _secret(_file_key(slack["api_url_file"])), "channel": slack["channel"],
            "sendResolved": slack["send_resolved"], "title": slack["title"], "text": slack["text"]})
    for pd in receiver.get("pagerduty_configs", []):
        item = {"routingKey": _secret(_file_key(pd["routing_key_file"])), "sendResolved": pd["send_resolved"],
                "severity": pd["severity"], "description": pd["description"], "client": pd["client"],
                "details": [{"key": k, "value": v} for k, v in pd["details"].items()],
                "pagerDutyLinkConfigs": [{"href": link["href"], "alt": link["text"]} for link in pd["links"]]}
        if "url" in pd:
            item["url"] = pd["url"]
        out.setdefault("pagerdutyConfigs", []).append(item)
    unknown = set(receiver) - {"name", "slack_configs", "pagerduty_configs"}
    assert not unknown, f"receiver kinds not translated yet: {unknown}"
    return out


def _time_interval(interval: dict) -> dict:
    # v1alpha1 TimeInterval has no `location`: the operator evaluates it in UTC (README says so).
    out: dict = {}
    if "weekdays" in interval:
        out["weekdays"] = interval["weekdays"]
    if "times" in interval:
        out["times"] = [{"startTime": t["start_time"], "endTime": t["end_time"]} for t in interval["times"]]
    return out


def alertmanager_config_cr() -> dict:
    src = alertmanager_config.build(profile=PRODUCTION)
    return {"apiVersion": "monitoring.coreos.com/v1alpha1", "kind": "AlertmanagerConfig",
            "metadata": _meta(AMC_NAME, "alerting", {"alertmanagerConfig": "northstar"}),
            "spec": {
                "route": _route(src["route"]),
                "receivers": [_receiver(r) for r in src["receivers"]],
                "inhibitRules": [{"sourceMatch": [_matcher(m) for m in rule["source_matchers"]],
                                  "targetMatch": [_matcher(m) for m in rule["target_matchers"]],
                                  "equal": rule["equal"]} for rule in src["inhibit_rules"]],
                "muteTimeIntervals": [{"name": t["name"], "timeIntervals": [_time_interval(i) for i in t["time_intervals"]]}
                                      for t in src["time_intervals"]],
            }}


def operator_alertmanager_config(amc: dict, namespace: str) -> dict:
    """The alertmanager.yml the operator generates from `amc` in `namespace` (its documented
    merge: receivers and time intervals prefixed `<ns>/<name>/`, a first-level route with a
    namespace matcher and `continue: true`, inhibit rules scoped to the namespace), for amtool."""
    prefix = f"{namespace}/{amc['metadata']['name']}/"
    spec = amc["spec"]
    ns_matcher = f'namespace="{namespace}"'

    def matchers(items: list[dict]) -> list[str]:
        return [f'{m["name"]}{m["matchType"]}"{m["value"]}"' for m in items]

    def route(r: dict) -> dict:
        out: dict = {}
        for key, value in r.items():
            if key == "receiver":
                out["receiver"] = prefix + value
            elif key == "matchers":
                out["matchers"] = matchers(value)
            elif key == "routes":
                out["routes"] = [route(c) for c in value]
            elif key in ("activeTimeIntervals", "muteTimeIntervals"):
                out[re.sub(r"([A-Z])", r"_\1", key).lower()] = [prefix + v for v in value]
            else:
                out[re.sub(r"([A-Z])", r"_\1", key).lower()] = value
        return out

    def receiver(r: dict) -> dict:
        out: dict = {"name": prefix + r["name"]}
        for s in r.get("slackConfigs", []):
            out.setdefault("slack_configs", []).append({
                "api_url": f"https://hooks.slack.invalid/{s['apiURL']['key']}", "channel": s["channel"],
                "send_resolved": s["sendResolved"], "title": s["title"], "text": s["text"]})
        for p in r.get("pagerdutyConfigs", []):
            out.setdefault("pagerduty_configs", []).append({
                "routing_key": f"from-secret-{p['routingKey']['key']}", "send_resolved": p["sendResolved"],
                "severity": p["severity"], "description": p["description"], "client": p["client"],
                "details": {d["key"]: d["value"] for d in p["details"]},
                "links": [{"href": link["href"], "text": link["alt"]} for link in p["pagerDutyLinkConfigs"]]})
        return out

    top = route(spec["route"])
    top["matchers"] = [ns_matcher, *top.get("matchers", [])]
    top["continue"] = True
    return {
        "route": {"receiver": "null", "routes": [top]},
        "receivers": [{"name": "null"}, *[receiver(r) for r in spec["receivers"]]],
        "inhibit_rules": [{"source_matchers": [ns_matcher, *matchers(i["sourceMatch"])],
                           "target_matchers": [ns_matcher, *matchers(i["targetMatch"])],
                           "equal": i["equal"]} for i in spec.get("inhibitRules", [])],
        "time_intervals": [{"name": prefix + t["name"],
                            "time_intervals": [{**({"weekdays": i["weekdays"]} if "weekdays" in i else {}),
                                                **({"times": [{"start_time": x["startTime"], "end_time": x["endTime"]}
                                                              for x in i["times"]]} if "times" in i else {})}
                                               for i in t["timeIntervals"]]}
                           for t in spec.get("muteTimeIntervals", [])],
    }


def dashboard_config_maps() -> list[dict]:
    out = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        json.loads(path.read_text())  # a broken dashboard fails here, not in Grafana
        out.append({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": f"dashboard-{path.stem}",
                                 "labels": {**labels(f"dashboard-{path.stem}", "dashboards"), "grafana_dashboard": "1"},
                                 "annotations": {"grafana_folder": "Northstar"}},
                    "data": {path.name: path.read_text()}})
    return out



# --- monitoring-signals: PostgreSQL and Redis seen from the server side, and the Prometheus ------

# The same images docker-compose.yml runs (infra/tests/test_docker_compose.py compares them).
EXPORTER_IMAGES = {"postgres-exporter": "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
                   "redis-exporter": "oliver006/redis_exporter:v1.62.0"}
EXPORTER_UID = 65534  # nobody: both images run as a non-root user
# Secret keys of BACKEND_SECRET the exporters read (the README's `kubectl create secret`).
EXPORTER_SECRET_ENV = {"postgres-exporter": ("DATA_SOURCE_NAME", "POSTGRES_EXPORTER_DSN"),
                       "redis-exporter": ("REDIS_ADDR", "REDIS_URL")}
PROMETHEUS_NAME = "northstar"
PROMETHEUS_UID = 1000


def _exporter_services() -> dict:
    ports = Ports()
    return {"postgres-exporter": postgres_exporter_service(ports, "postgresql://unused@127.0.0.1/x"),
            "redis-exporter": redis_exporter_service(ports, "redis://127.0.0.1:6379")}


def _exporter_args(argv: list[str]) -> list[str]:
    """The native flags (infra/local/services.py) listening on every interface of the pod."""
    return [a.replace(f"{HOST}:", ":") for a in argv[1:]]


def exporters() -> list[dict]:
    """Deployment, Service and ServiceMonitor of each exporter (one replica each: a second one
    would double every series; the HPA owns nothing here). The database and Redis themselves are
    not part of these manifests (infra/k8s/README.md)."""
    out = []
    for name, svc in _exporter_services().items():
        (port,) = svc.ports
        var, key = EXPORTER_SECRET_ENV[name]
        restricted = {"runAsNonRoot": True, "runAsUser": EXPORTER_UID, "runAsGroup": EXPORTER_UID,
                      "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                      "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
        container = {
            "name": name, "image": EXPORTER_IMAGES[name], "args": _exporter_args(svc.argv),
            "ports": [{"name": "metrics", "containerPort": port}],
            "env": [{"name": var, "valueFrom": {"secretKeyRef": {"name": BACKEND_SECRET, "key": key}}}],
            "resources": {"requests": {"cpu": "20m", "memory": "32Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
            "readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 10},
            "livenessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 20, "failureThreshold": 3},
            "securityContext": restricted,
        }
        pod = {"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
               "automountServiceAccountToken": False, "containers": [container]}
        out.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels(name, "monitoring")},
                    "spec": {"revisionHistoryLimit": 3, "selector": {"matchLabels": selector(name)},
                             "template": {"metadata": {"labels": labels(name, "monitoring")}, "spec": pod}}})
        out.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels(name, "monitoring")},
                    "spec": {"selector": selector(name),
                             "ports": [{"name": "metrics", "port": port, "targetPort": "metrics"}]}})
        out.append({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": _meta(name, "monitoring"),
                    "spec": {"selector": {"matchLabels": selector(name)},
                             "endpoints": [{"port": "metrics", "path": JOBS_BY_NAME[name].metrics_path,
                                            "interval": PRODUCTION.scrape_interval,
                                            "scrapeTimeout": PRODUCTION.scrape_timeout,
                                            "relabelings": _relabel_job(name)}]}})
        out.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": name, "labels": labels(name, "monitoring")},
                    "spec": {"podSelector": {"matchLabels": selector(name)}, "policyTypes": ["Ingress"],
                             "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {
                                 "kubernetes.io/metadata.name": MONITORING_NAMESPACE}}}],
                                 "ports": [{"protocol": "TCP", "port": port}]}]}})
    return out


def prometheus_spec() -> dict:
    """The Prometheus CR's spec: the native flags that matter (feature flags, retention) and the
    production profile's intervals; selects the ServiceMonitors and PrometheusRule of `base/`."""
    return {
        "replicas": 2,  # the HA pair: the operator adds `prometheus_replica`, Alertmanager dedups
        "serviceAccountName": f"prometheus-{PROMETHEUS_NAME}",
        "enableFeatures": list(PROMETHEUS_FEATURES),
        "retention": "30d",
        "scrapeInterval": PRODUCTION.scrape_interval,
        "evaluationInterval": PRODUCTION.evaluation_interval,
        "externalLabels": {"cluster": "northstar"},
        "serviceMonitorSelector": {"matchLabels": dict(OPERATOR_LABELS)},
        "serviceMonitorNamespaceSelector": {},
        "ruleSelector": {"matchLabels": dict(OPERATOR_LABELS)},
        "ruleNamespaceSelector": {},
        "alerting": {"alertmanagers": [{"namespace": MONITORING_NAMESPACE, "name": "alertmanager-operated",
                                        "port": "web"}]},
        "securityContext": {"runAsNonRoot": True, "runAsUser": PROMETHEUS_UID, "fsGroup": PROMETHEUS_UID,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "resources": {"requests": {"cpu": "200m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "2Gi"}},
    }


def prometheus_objects() -> list[dict]:
    """A Prometheus (Prometheus Operator CR) with its service account and the read-only RBAC its
    service discovery needs, for clusters that run the operator without kube-prometheus-stack's
    own Prometheus; kube-prometheus-stack users set the same spec in the chart's values
    (kube_prometheus_stack_values())."""
    name = f"prometheus-{PROMETHEUS_NAME}"
    meta = {"name": name, "labels": labels(name, "monitoring")}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta, "automountServiceAccountToken": True},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta,
         "rules": [{"apiGroups": [""], "resources": ["services", "endpoints", "pods"], "verbs": ["get", "list", "watch"]},
                   {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
                   {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": MONITORING_NAMESPACE}]},
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus",
         "metadata": {"name": PROMETHEUS_NAME, "labels": labels(PROMETHEUS_NAME, "monitoring")},
         "spec": prometheus_spec()},
    ]


def kube_prometheus_stack_values() -> dict:
    """The same settings as Helm values of kube-prometheus-stack (`prometheus.prometheusSpec`)."""
    spec = prometheus_spec()
    return {"prometheus": {"prometheusSpec": {k: spec[k] for k in (
        "enableFeatures", "retention", "scrapeInterval", "evaluationInterval", "externalLabels")}}}
