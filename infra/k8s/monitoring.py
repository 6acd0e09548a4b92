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

from infra.k8s.app import labels, selector
from infra.product import PRODUCT
from monitoring import alertmanager_config
from monitoring.profiles import PRODUCTION
from monitoring.prometheus_config import JOBS_BY_NAME
from monitoring.rules import catalogue

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "monitoring/grafana/dashboards"
ALERTING_SECRET = f"{PRODUCT.slug}-alerting"  # created by the team, never committed (README)
# kube-prometheus-stack's Prometheus selects rules and monitors by its Helm release label.
OPERATOR_LABELS = {"release": "kube-prometheus-stack"}
AMC_NAME = PRODUCT.slug


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
            "metadata": _meta(PRODUCT.slug, "alerting"), "spec": {"groups": rule_groups()}}


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
            "metadata": _meta(AMC_NAME, "alerting", {"alertmanagerConfig": PRODUCT.slug}),
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
                                 "annotations": {"grafana_folder": PRODUCT.name}},
                    "data": {path.name: path.read_text()}})
    return out

