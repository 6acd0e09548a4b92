"""A real Alertmanager (the fast profile's rendered config) delivering to the capture server.

`make test-alerts`' script lands in PagerDuty and Slack, and a catalogue alert's page and Slack
message carry what the on-call needs (routing key from the secret file, severity, summary,
runbook link), then their resolves. That Prometheus fires these alerts from real traffic is
proven once, by the load harness (`make test-alerts-short`, scenario error_burst).
"""

import subprocess
import sys
from datetime import UTC, datetime

import httpx
import pytest

from infra.local.services import Ports, alertmanager_service, capture_service
from infra.product import PRODUCT
from infra.testkit import Capture, start_service, wait_until
from monitoring.generate import ROOT
from monitoring.native import write_alertmanager_config
from monitoring.profiles import FAST
from monitoring.rules.catalogue import RUNBOOK_BASE_URL, all_alerts, runbook_url

pytestmark = pytest.mark.live


@pytest.fixture()
def alertmanager(tmp_path):
    ports = Ports.free()
    capture = start_service(capture_service(ports), tmp_path)
    config = write_alertmanager_config(tmp_path / "alertmanager", FAST, capture_url=ports.url("capture"), env={})
    try:
        am = start_service(alertmanager_service(ports, config, tmp_path / "am-data"), tmp_path)
    except BaseException:
        capture.stop()
        raise
    yield {"url": ports.url("alertmanager"), "capture": ports.url("capture"), "secrets": config.parent / "secrets"}
    am.stop()
    capture.stop()


def test_send_test_alert_lands_in_pagerduty_and_slack(alertmanager):
    script = [sys.executable, str(ROOT / "scripts/send_test_alert.py"), "--alertmanager", alertmanager["url"],
              "--capture", alertmanager["capture"], "--timeout", "20"]
    result = subprocess.run(script, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "landed in pagerduty" in result.stdout and "landed in slack:alerts" in result.stdout
    result = subprocess.run([*script, "--alertname", "NewErrorType", "--severity", "warning"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "landed in slack:engineering" in result.stdout, result.stdout


def _post(am: str, alert, resolved: bool = False) -> None:
    now = datetime.now(UTC).isoformat()
    body = {"labels": {"alertname": alert.alert, "severity": alert.severity, "service": "backend", **alert.labels},
            "annotations": {"summary": "backend: 50% of requests fail with 5xx", "description": alert.description,
                            "runbook_url": runbook_url(alert.alert)},
            "startsAt": now, **({"endsAt": now} if resolved else {})}
    httpx.post(f"{am}/api/v2/alerts", json=[body], timeout=5).raise_for_status()


def test_a_critical_alert_pages_and_tells_slack_with_its_runbook_then_resolves(alertmanager):
    alert = next(a for a in all_alerts(FAST) if a.alert == "HighErrorRate")
    capture = Capture(alertmanager["capture"])

    def pd(action: str) -> list[dict]:
        return [i["payload"] for i in capture.captured("pagerduty")
                if i["payload"].get("event_action") == action and "HighErrorRate" in i["payload"]["payload"]["summary"]]

    def slack(status: str) -> list[dict]:
        return [i for i in capture.captured("slack")
                if i["payload"]["attachments"][0]["title"].startswith(f"[{status}")
                and "HighErrorRate (backend)" in i["payload"]["attachments"][0]["title"]]

    _post(alertmanager["url"], alert)
    page = wait_until(lambda: pd("trigger"), 30, what="PagerDuty trigger")[0]
    assert page["routing_key"] == (alertmanager["secrets"] / "pagerduty_routing_key").read_text()
    assert page["payload"]["severity"] == "critical"
    assert page["payload"]["summary"] == "HighErrorRate (backend): backend: 50% of requests fail with 5xx"
    details = page["payload"]["custom_details"]
    assert details["runbook_url"] == f"{RUNBOOK_BASE_URL}/HighErrorRate.md" and details["service"] == "backend"
    assert page["links"][0]["href"].endswith("/HighErrorRate.md")

    message = wait_until(lambda: slack("FIRING"), 30, what="Slack #alerts firing")[0]
    assert message["channel"] == "alerts" and message["payload"]["channel"] == PRODUCT.slack_alerts_channel
    text = message["payload"]["attachments"][0]["text"]
    assert "of requests fail with 5xx* (critical)" in text and "Runbook: " + RUNBOOK_BASE_URL in text
    assert not [i for i in capture.captured("slack") if i["channel"] == "engineering"]

    _post(alertmanager["url"], alert, resolved=True)
    resolve = wait_until(lambda: pd("resolve"), 30, what="PagerDuty resolve")[0]
    assert resolve["dedup_key"] == page["dedup_key"]
    wait_until(lambda: slack("RESOLVED"), 30, what="Slack #alerts resolved")
