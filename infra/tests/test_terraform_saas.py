"""The Sentry and PagerDuty Terraform configurations (infra/sentry, infra/pagerduty), checked as far
as this machine allows: no terraform binary, no provider schemas, no network.

- every .tf file parses (python-hcl2);
- every provider, resource, data source, argument and block is one the provider documents at the
  pinned version (infra/tests/terraform_providers.py, with the URL of each page); required
  arguments are set; blocks are blocks and attributes are attributes;
- every reference (var., local., data., resource attributes) points at something declared or exported;
- no secret in the repository: tokens and keys are sensitive variables without a value;
- the Sentry alerts have the thresholds, windows and destinations of the Prometheus rules
  (monitoring/rules/catalogue.py, production profile) and of their Alertmanager routes
  (monitoring/alertmanager_config.py, routed with amtool), read from there, not copied;
- the escalation policy has the on-call times of the runbooks (monitoring/runbooks/README.md), and
  the rotations the time zone of Alertmanager's business hours.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import hcl2
import pytest
import yaml
from hcl2 import SerializationOptions

from infra.tests import terraform_providers as tp
from monitoring import alertmanager_config
from monitoring.profiles import PRODUCTION, parse_duration
from monitoring.rules import catalogue

REPO = Path(__file__).resolve().parents[2]
MODULES = {"sentry": REPO / "infra" / "sentry", "pagerduty": REPO / "infra" / "pagerduty"}
_OPTIONS = SerializationOptions(with_comments=False, strip_string_quotes=True)
_BLOCK = "__is_block__"

# Which Terraform trigger implements which catalogue alert (resource, trigger label) -> alert.
SENTRY_ALERTS = {
    ("sentry_metric_alert.errors", "warning"): "ErrorBurst",
    ("sentry_metric_alert.errors", "critical"): "ErrorStorm",
    ("sentry_metric_alert.latency_regression", "critical"): "LatencyRegression",
    ("sentry_issue_alert.new_error_type", None): "NewErrorType",
}


# --------------------------------------------------------------------------- loading

def _load(module: str) -> dict[str, list]:
    """All top-level blocks of a module's .tf files, by block type."""
    merged: dict[str, list] = {}
    files = sorted(MODULES[module].glob("*.tf"))
    assert files, f"no .tf files in {MODULES[module]}"
    for path in files:
        for key, items in hcl2.loads(path.read_text(), serialization_options=_OPTIONS).items():
            merged.setdefault(key, []).extend(items)
    return merged


def _labelled(config: dict, kind: str) -> dict[str, dict]:
    """resource/data blocks as {"type.name": body} (data as "data.type.name")."""
    out = {}
    for item in config.get(kind, []):
        for type_, named in item.items():
            for name, body in named.items():
                out[f"{'data.' if kind == 'data' else ''}{type_}.{name}"] = body
    return out


def _single(config: dict, kind: str) -> dict[str, dict]:
    """variable/output/provider blocks as {name: body}."""
    return {name: body for item in config.get(kind, []) for name, body in item.items()}


@pytest.fixture(scope="module", params=sorted(MODULES))
def module(request) -> tuple[str, dict]:
    return request.param, _load(request.param)


@pytest.fixture(scope="module")
def sentry() -> dict[str, dict]:
    return _labelled(_load("sentry"), "resource")


@pytest.fixture(scope="module")
def pagerduty() -> dict[str, dict]:
    return _labelled(_load("pagerduty"), "resource")


# --------------------------------------------------------------------------- schema

def _check_body(body: dict, schema: dict, where: str, errors: list[str]) -> None:
    for key, value in body.items():
        if key == _BLOCK:
            continue
        spec = schema.get(key)
        if spec is None:
            if key not in tp.META_ARGUMENTS:
                errors.append(f"{where}.{key}: not documented")
            continue
        if isinstance(spec, tp.Nested):
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                is_block = isinstance(item, dict) and item.get(_BLOCK, False)
                if spec.kind == "block" and not is_block:
                    errors.append(f"{where}.{key}: must be a block (`{key} {{ ... }}`)")
                elif spec.kind == "object" and is_block:
                    errors.append(f"{where}.{key}: must be an attribute (`{key} = ...`)")
                if isinstance(item, dict):
                    _check_body(item, spec.children, f"{where}.{key}[{i}]", errors)
        elif isinstance(value, dict) and value.get(_BLOCK):
            errors.append(f"{where}.{key}: documented as an argument, written as a block")
    for key, spec in schema.items():
        required = spec == tp.REQ or (isinstance(spec, tp.Nested) and spec.required)
        if required and key not in body:
            errors.append(f"{where}: required {key} missing")


def test_every_file_parses_and_uses_only_documented_names(module):
    name, config = module
    errors: list[str] = []
    for kind, table in (("resource", tp.RESOURCES), ("data", tp.DATA_SOURCES)):
        for address, body in _labelled(config, kind).items():
            type_ = address.split(".")[-2]
            assert type_ in table, f"{address}: {type_} is not in the verified table"
            _check_body(body, table[type_]["schema"], address, errors)
    for provider, body in _single(config, "provider").items():
        assert provider in tp.PROVIDERS, f"provider {provider} is not in the verified table"
        _check_body(body, tp.PROVIDERS[provider]["schema"], f"provider.{provider}", errors)
    assert not errors, "\n".join(errors)
    assert _labelled(config, "resource"), f"{name}: no resources"


def test_providers_are_pinned_to_the_verified_versions(module):
    name, config = module
    (terraform,) = config["terraform"]
    required = {k: v for item in terraform["required_providers"] for k, v in item.items() if k != _BLOCK}
    assert set(required) == {name}
    assert required[name]["source"] == tp.PROVIDERS[name]["source"]
    # "~> X.Y.Z": patch releases of the documented version only.
    assert required[name]["version"] == f"~> {tp.PROVIDERS[name]['version']}"


_REF = re.compile(r"\b(var|local|data)\.([A-Za-z0-9_]+)(?:\.([A-Za-z0-9_]+))?(?:\.([A-Za-z0-9_]+))?")
_RESOURCE_REF = re.compile(r"\b((?:sentry|pagerduty)_[a-z_]+)\.([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)")


def _expressions(value):
    if isinstance(value, str):
        yield from re.findall(r"\$\{(.*?)\}(?!\})", value)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _expressions(v)
    elif isinstance(value, list):
        for v in value:
            yield from _expressions(v)


def test_every_reference_points_at_something_declared(module):
    name, config = module
    variables = set(_single(config, "variable"))
    local_names = {k for item in config.get("locals", []) for k in item if k != _BLOCK}
    resources = _labelled(config, "resource")
    data = _labelled(config, "data")
    errors = []
    for expr in _expressions({k: v for k, v in config.items() if k != "variable"}):
        for kind, first, second, third in _REF.findall(expr):
            if kind == "var" and first not in variables:
                errors.append(f"var.{first} is not declared")
            elif kind == "local" and first not in local_names:
                errors.append(f"local.{first} is not declared")
            elif kind == "data":
                if f"data.{first}.{second}" not in data:
                    errors.append(f"data.{first}.{second} is not declared")
                elif third not in tp.EXPORTED.get(first, ()):
                    errors.append(f"data.{first}.{second}.{third}: not an exported attribute")
        for type_, res_name, attr in _RESOURCE_REF.findall(expr):
            if expr.find(f"data.{type_}") != -1:
                continue
            if f"{type_}.{res_name}" not in resources:
                errors.append(f"{type_}.{res_name} is not declared")
            elif attr not in tp.EXPORTED.get(type_, ()):
                errors.append(f"{type_}.{res_name}.{attr}: not an exported attribute")
    assert not errors, "\n".join(errors)


# --------------------------------------------------------------------------- secrets

SECRET_NAME = re.compile(r"token|key|secret|password", re.I)


def test_secrets_are_sensitive_variables_without_a_value(module):
    name, config = module
    variables = _single(config, "variable")
    secrets = {n: v for n, v in variables.items() if SECRET_NAME.search(n)}
    assert secrets, "the token variable is missing"
    for var_name, body in secrets.items():
        assert body.get("sensitive") is True, f"{var_name} must be sensitive"
        assert body.get("default") is None, f"{var_name} must not have a value in the repository"
    for out_name, body in _single(config, "output").items():
        if SECRET_NAME.search(out_name):
            assert body.get("sensitive") is True, f"output {out_name} must be sensitive"
    ignored = (MODULES[name] / ".gitignore").read_text().split()
    assert {"*.tfvars", "*.tfstate", ".terraform/"} <= set(ignored)
    tracked = subprocess.run(["git", "ls-files", str(MODULES[name])], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.split()
    assert not [f for f in tracked if f.endswith((".tfvars", ".tfstate")) or "/.terraform/" in f]


# --------------------------------------------------------------------------- documented values

def test_enumerated_values_are_documented_ones(sentry, pagerduty):
    for address, body in sentry.items():
        if address.startswith("sentry_metric_alert."):
            labels = [t["label"] for t in body["trigger"]]
            # Sentry's serializer: 1 or 2 triggers, "critical" first, then "warning".
            assert tuple(labels) == tp.SENTRY_METRIC_ALERT_RULES["trigger_labels"][:len(labels)], address
            for trigger in body["trigger"]:
                for action in trigger["action"]:
                    assert action["type"] in {"email", "slack", "pagerduty", "msteams", "opsgenie",
                                              "discord", "sentry_app"}
                    assert action["target_type"] in {"user", "team", "specific", "sentry_app"}
                    if action["type"] == "slack":
                        assert "integration_id" in action, f"{address}: slack needs integration_id"
                    if "priority" in action:
                        assert action["type"] in {"pagerduty", "opsgenie"}
        if address.startswith("sentry_issue_alert."):
            assert body["action_match"] in {"all", "any"}
            assert body.get("filter_match", "all") in {"all", "any", "none"}
            for f in body.get("filters_v2", []):
                if "issue_category" in f:
                    assert f["issue_category"]["value"] in {"Error", "Performance", "Frontend"}
    for address, body in pagerduty.items():
        if address.startswith("pagerduty_escalation_policy."):
            for rule in body["rule"]:
                assert all(t["type"] in {"user_reference", "schedule_reference"} for t in rule["target"])
        if address.startswith("pagerduty_service_integration.") and "type" in body:
            assert body["type"] in {"events_api_v2_inbound_integration",
                                    "generic_events_api_inbound_integration",
                                    "generic_email_inbound_integration"}
        if address.startswith("pagerduty_service."):
            for rule in body.get("incident_urgency_rule", []):
                assert rule["type"] in {"constant", "use_support_hours"}
                assert rule.get("urgency") in {"low", "high", "severity_based"}


# --------------------------------------------------------------------------- the catalogue

def _production_alert(name: str) -> catalogue.Alert:
    (alert,) = [a for a in catalogue.all_alerts(PRODUCTION) if a.alert == name]
    return alert


def _recording(name: str) -> str:
    (rec,) = [r for r in catalogue.service_recordings(PRODUCTION) if r.record == name]
    return rec.expr


def _window_minutes(expr: str) -> int:
    (window,) = set(re.findall(r"\[(\w+)\]", expr)) | set(re.findall(r"offset (\w+)\)", expr))
    return int(parse_duration(window) / 60)


def _count_threshold(alert_name: str) -> tuple[float, int]:
    """(threshold, window in minutes) of `recorded_series > N` alerts."""
    alert = _production_alert(alert_name)
    series, threshold = re.fullmatch(r"\s*([\w:]+)\s*>\s*([\d.]+)\s*", alert.expr).groups()
    return float(threshold), _window_minutes(_recording(series))


def _routes(labels: dict[str, str], tmp_path: Path) -> set[tuple[str, str]]:
    """Where Alertmanager sends these labels: {("slack", "#alerts"), ("pagerduty", "")}, by amtool."""
    config = alertmanager_config.build(profile=PRODUCTION)
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    proc = subprocess.run(["amtool", "config", "routes", "test", f"--config.file={path}",
                           *[f"{k}={v}" for k, v in labels.items()]],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    receivers = {r["name"]: r for r in config["receivers"]}
    out = set()
    for name in proc.stdout.strip().split(","):
        receiver = receivers[name]
        out |= {("slack", c["channel"]) for c in receiver.get("slack_configs", [])}
        out |= {("pagerduty", "") for _ in receiver.get("pagerduty_configs", [])}
    return out


def _destinations(actions: list[dict]) -> set[tuple[str, str]]:
    out = set()
    for action in actions:
        if "slack_notify_service" in action:
            out.add(("slack", action["slack_notify_service"]["channel"]))
        elif action.get("type") == "slack":
            out.add(("slack", action["target_identifier"]))
        elif action.get("type") == "pagerduty":
            out.add(("pagerduty", ""))
        else:
            raise AssertionError(f"unexpected action {action}")
    return out


def _trigger(sentry: dict, address: str, label: str) -> dict:
    (trigger,) = [t for t in sentry[address]["trigger"] if t["label"] == label]
    return trigger


@pytest.fixture(scope="module")
def amtool_available():
    assert shutil.which("amtool"), "amtool is not installed: `make install` (prometheus-alertmanager)"


def test_every_sentry_alert_is_mapped_to_a_catalogue_alert(sentry):
    in_config = {(a, t["label"]) for a, body in sentry.items() if a.startswith("sentry_metric_alert.")
                 for t in body["trigger"]}
    in_config |= {(a, None) for a in sentry if a.startswith("sentry_issue_alert.")}
    assert in_config == set(SENTRY_ALERTS)
    names = {a.alert for a in catalogue.all_alerts(PRODUCTION)}
    assert set(SENTRY_ALERTS.values()) <= names


@pytest.mark.parametrize("alert_name", ["ErrorBurst", "ErrorStorm"])
def test_error_count_alerts_match_the_catalogue_and_its_routes(sentry, alert_name, tmp_path,
                                                              amtool_available):
    (address, label), = [k for k, v in SENTRY_ALERTS.items() if v == alert_name]
    body, trigger = sentry[address], _trigger(sentry, address, label)
    threshold, window = _count_threshold(alert_name)
    alert = _production_alert(alert_name)
    assert (trigger["alert_threshold"], body["time_window"]) == (threshold, window)
    assert body["aggregate"] == "count()" and body["dataset"] == "events"
    assert body["threshold_type"] == trigger["threshold_type"] == tp.SENTRY_METRIC_ALERT_RULES["threshold_type_above"]
    assert label == alert.severity  # Sentry's trigger levels are the catalogue's severities
    expected = _routes({"alertname": alert_name, "severity": alert.severity, "service": "backend"}, tmp_path)
    assert _destinations(trigger["action"]) == expected


def test_latency_regression_matches_the_catalogue_and_its_route(sentry, tmp_path, amtool_available):
    (address, label), = [k for k, v in SENTRY_ALERTS.items() if v == "LatencyRegression"]
    body, trigger = sentry[address], _trigger(sentry, address, label)
    alert = _production_alert("LatencyRegression")
    factor, series, offset = re.search(
        r">\s*([\d.]+)\s*\*\s*\(([\w:]+) offset (\w+)\)", alert.expr).groups()
    recorded = _recording(series)
    quantile = re.search(r"histogram_quantile\(([\d.]+)", recorded).group(1)
    assert body["aggregate"] == f"p{round(float(quantile) * 100)}(transaction.duration)"
    assert body["time_window"] == _window_minutes(recorded)
    assert body["comparison_delta"] == parse_duration(offset) / 60
    # With comparison_delta, Sentry's alert_threshold is the percent change.
    assert trigger["alert_threshold"] == round((float(factor) - 1) * 100)
    expected = _routes({"alertname": "LatencyRegression", "severity": alert.severity,
                        "service": "backend"}, tmp_path)
    assert _destinations(trigger["action"]) == expected


def test_new_error_type_matches_its_route(sentry, tmp_path, amtool_available):
    (address, _), = [k for k, v in SENTRY_ALERTS.items() if v == "NewErrorType"]
    body = sentry[address]
    assert body["conditions_v2"] == [{"first_seen_event": {}}]
    alert = _production_alert("NewErrorType")
    expected = _routes({"alertname": "NewErrorType", "severity": alert.severity, "service": "backend"},
                       tmp_path)
    assert _destinations(body["actions_v2"]) == expected


def test_sentry_pages_the_pagerduty_service_of_infra_pagerduty(sentry):
    sentry_vars = _single(_load("sentry"), "variable")
    pagerduty_vars = _single(_load("pagerduty"), "variable")
    assert sentry_vars["pagerduty_service_name"]["default"] == pagerduty_vars["service_name"]["default"]
    pagerduty_outputs = _single(_load("pagerduty"), "output")
    assert "pagerduty_sentry_integration_key" in pagerduty_outputs["sentry_integration_key"]["description"]
    # Alertmanager's routing key file gets the other integration's key.
    routing_key_file = alertmanager_config.SECRET_FILES["pagerduty"]
    assert routing_key_file in pagerduty_outputs["alertmanager_routing_key"]["description"]


# --------------------------------------------------------------------------- on-call

def _runbook_oncall_minutes() -> list[int]:
    """primary / secondary / engineering manager times from the runbooks' on-call sentence."""
    text = " ".join((REPO / "monitoring" / "runbooks" / "README.md").read_text().split())
    match = re.search(r"primary responds within (\d+) min, secondary within (\d+) min, then the "
                      r"engineering manager at (\d+) hour", text)
    assert match, "the on-call sentence in monitoring/runbooks/README.md changed"
    primary, secondary, manager_hours = (int(g) for g in match.groups())
    return [primary, secondary, manager_hours * 60]


def test_escalation_policy_has_the_runbooks_on_call_times(pagerduty):
    policy = pagerduty["pagerduty_escalation_policy.product"]
    delays = [rule["escalation_delay_in_minutes"] for rule in policy["rule"]]
    assert delays == _runbook_oncall_minutes()
    targets = [rule["target"][0]["id"] for rule in policy["rule"]]
    assert targets == ["${pagerduty_schedule.primary.id}", "${pagerduty_schedule.secondary.id}",
                       "${var.engineering_manager_user_id}"]
    service = pagerduty["pagerduty_service.product"]
    assert service["escalation_policy"] == "${pagerduty_escalation_policy.product.id}"
    integrations = [b for a, b in pagerduty.items() if a.startswith("pagerduty_service_integration.")]
    assert all(b["service"] == "${pagerduty_service.product.id}" for b in integrations)


def test_rotations_use_the_time_zone_of_alertmanagers_business_hours(pagerduty):
    variables = _single(_load("pagerduty"), "variable")
    assert variables["time_zone"]["default"] == alertmanager_config.BUSINESS_HOURS["location"]
    schedules = [b for a, b in pagerduty.items() if a.startswith("pagerduty_schedule.")]
    assert len(schedules) == 2 and all(s["time_zone"] == "${var.time_zone}" for s in schedules)
