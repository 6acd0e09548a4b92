"""Alertmanager: configs valid (amtool check-config), every route exercised with
`amtool config routes test`, every catalogue alert routed to the receivers its severity
promises, and no secret in the committed files."""

import re
import subprocess

import pytest
import yaml

from infra.product import PRODUCT
from monitoring.alertmanager_config import NEW_ERROR_TYPE_ALERTS
from monitoring.generate import ROOT
from monitoring.native import write_alertmanager_config
from monitoring.profiles import PRODUCTION
from monitoring.rules.catalogue import all_alerts

AM = ROOT / "alertmanager"
CONFIGS = ["alertmanager.yml", "fast"]  # the committed production file; the fast one as rendered for tests

# (labels, receivers in routing order): one case per route of the tree, plus the fallback.
ROUTE_CASES = [
    ({"alertname": "NewErrorType", "severity": "warning", "service": "backend"}, ["slack-engineering"]),
    ({"alertname": "NewBrowserErrorType", "severity": "warning", "service": "frontend"}, ["slack-engineering"]),
    ({"alertname": "HighErrorRate", "severity": "critical", "service": "backend"}, ["pagerduty", "slack-alerts"]),
    ({"alertname": "SlowAPI", "severity": "warning", "service": "backend"}, ["slack-alerts"]),
    ({"alertname": "Something", "severity": "info", "service": "backend"}, ["slack-alerts"]),
    ({"alertname": "NoSeverity"}, ["slack-alerts"]),
]


@pytest.fixture(scope="module")
def fast_config(tmp_path_factory):
    return str(write_alertmanager_config(tmp_path_factory.mktemp("am"), "fast", env={}))


def config_path(name: str, fast_config: str) -> str:
    return fast_config if name == "fast" else str(AM / name)


def amtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["amtool", *args], cwd=AM, capture_output=True, text=True, timeout=60)


def route_test(config: str, labels: dict, receivers: list[str]) -> subprocess.CompletedProcess:
    return amtool("config", "routes", "test", f"--config.file={config}",
                  f"--verify.receivers={','.join(receivers)}", *[f"{k}={v}" for k, v in labels.items()])


@pytest.mark.parametrize("config", CONFIGS)
def test_check_config(config, fast_config):
    result = amtool("check-config", config_path(config, fast_config))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("labels,receivers", ROUTE_CASES)
def test_routes(config, labels, receivers, fast_config):
    result = route_test(config_path(config, fast_config), labels, receivers)
    assert result.returncode == 0, result.stdout + result.stderr


def _matches(labels: dict, matcher: str) -> bool:
    """The equality and regex matchers the routes use (name="v", name=~"a|b")."""
    name, value = matcher.split("=", 1)
    if value.startswith("~"):
        return re.fullmatch(value[1:].strip('"'), labels.get(name, "")) is not None
    return labels.get(name) == value.strip('"')


def test_route_cases_cover_every_route_and_receiver():
    config = yaml.safe_load((AM / "alertmanager.yml").read_text())
    routes = config["route"]["routes"]
    matched = set()
    for labels, _ in ROUTE_CASES:
        for i, route in enumerate(routes):
            if all(_matches(labels, m) for m in route["matchers"]):
                matched.add(i)
                if not route.get("continue"):
                    break
    assert matched == set(range(len(routes)))
    assert {r["name"] for r in config["receivers"]} == {r for _, rs in ROUTE_CASES for r in rs}


def test_a_wrong_expectation_fails():
    assert route_test("alertmanager.yml", {"alertname": "HighErrorRate", "severity": "critical"},
                      ["slack-alerts"]).returncode != 0


def test_every_catalogue_alert_reaches_its_receivers():
    expected = {"critical": ["pagerduty", "slack-alerts"], "warning": ["slack-alerts"]}
    for alert in all_alerts(PRODUCTION):
        receivers = ["slack-engineering"] if alert.alert in NEW_ERROR_TYPE_ALERTS else expected[alert.severity]
        result = route_test("alertmanager.yml", {"alertname": alert.alert, "severity": alert.severity,
                                                 "service": "backend"}, receivers)
        assert result.returncode == 0, (alert.alert, result.stdout)


def test_policy_business_hours_and_inhibition():
    config = yaml.safe_load((AM / "alertmanager.yml").read_text())
    warning = next(r for r in config["route"]["routes"] if r["matchers"] == ['severity="warning"'])
    assert warning["active_time_intervals"] == ["business-hours"]
    hours = config["time_intervals"][0]["time_intervals"][0]
    # the product's business hours (product.toml [alerting])
    assert hours["weekdays"] == [PRODUCT.business_days] and hours["location"] == PRODUCT.time_zone
    assert hours["times"] == [{"start_time": PRODUCT.business_hours_start, "end_time": PRODUCT.business_hours_end}]
    assert config["inhibit_rules"] == [{"source_matchers": ['severity="critical"'],
                                        "target_matchers": ['severity="warning"', 'alertname!~"NewErrorType|NewBrowserErrorType"'],
                                        "equal": ["service"]}]


def test_no_secret_in_committed_config():
    text = (AM / "alertmanager.yml").read_text()
    for field in ("api_url:", "routing_key:", "service_key:", "hooks.slack.com", "url: http"):
        assert field not in text, field
    assert "api_url_file: /etc/alertmanager/secrets/" in text
    assert "routing_key_file: /etc/alertmanager/secrets/pagerduty_routing_key" in text


def test_secrets_are_written_from_env_next_to_the_config(tmp_path):
    path = write_alertmanager_config(tmp_path, "production", env={
        "SLACK_ALERTS_WEBHOOK_URL": "https://hooks.example/a", "PAGERDUTY_ROUTING_KEY": "k123",
        "PAGERDUTY_URL": "https://events.pagerduty.com/v2/enqueue"})
    assert (tmp_path / "secrets/slack_alerts_webhook_url").read_text() == "https://hooks.example/a"
    assert (tmp_path / "secrets/slack_engineering_webhook_url").read_text() == "http://127.0.0.1:9911/slack/engineering"
    assert (tmp_path / "secrets/pagerduty_routing_key").read_text() == "k123"
    assert oct((tmp_path / "secrets/pagerduty_routing_key").stat().st_mode & 0o777) == "0o600"
    text = path.read_text()
    assert "k123" not in text and "hooks.example" not in text
    assert f"routing_key_file: {tmp_path.resolve()}/secrets/pagerduty_routing_key" in text
    assert "url: https://events.pagerduty.com/v2/enqueue" in text
    assert amtool("check-config", str(path)).returncode == 0
