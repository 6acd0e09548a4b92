"""Live acceptance test: the fast profile in a real Prometheus scraping the real backend.

Starts (free ports, temp dirs) the capture server, PostgreSQL database, backend (gunicorn with
backend/gunicorn_conf.py, 2 workers, fault injection on), node-exporter, Alertmanager and
Prometheus (1s scrape/eval, fast rules). A background client drives light traffic through the
product funnel. Then:
1. every dashboard panel query returns data, except panels marked as needing a fault and the
   Next.js panels (no frontend in this test; the load harness checks those with the full stack);
2. errors are injected, HighErrorRate fires, Alertmanager delivers it to the PagerDuty and Slack
   stand-ins with the right payloads, and it resolves (both receivers told) after errors stop.
"""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest

from monitoring.dashboards.queries import check_panels, format_report
from monitoring.rules.catalogue import RUNBOOK_BASE_URL
from monitoring.tests import live_stack as ls

pytestmark = pytest.mark.live
NEEDS_FRONTEND = ("Next.js",)


class Traffic(threading.Thread):
    """Light funnel traffic: ~20 requests/s, bounded by the test's lifetime."""

    def __init__(self, api_url: str):
        super().__init__(daemon=True)
        self.api = api_url
        self.stop_event = threading.Event()
        self.requests = 0

    def _user(self, client: httpx.Client) -> dict | None:
        email = f"mon-{uuid.uuid4().hex[:12]}@example.com"
        r = client.post("/api/auth/signup", json={"email": email, "password": "correct horse", "name": "Mon"})
        return {"Authorization": f"Bearer {r.json()['token']}"} if r.status_code == 201 else None

    def run(self) -> None:
        with httpx.Client(base_url=self.api, timeout=5) as client:
            auth, i = None, 0
            while not self.stop_event.is_set():
                try:
                    if auth is None or i % 100 == 0:
                        auth = self._user(client) or auth
                        if auth and i % 100 == 0:
                            client.post("/api/billing/upgrade", json={"plan": "pro"}, headers=auth)
                    if auth:
                        client.get("/api/projects", headers=auth)
                        if i % 5 == 0:
                            p = client.post("/api/projects", json={"name": f"p{i}"}, headers=auth)
                            if p.status_code == 201:
                                t = client.post(f"/api/projects/{p.json()['id']}/tasks", json={"title": "t"}, headers=auth)
                                if t.status_code == 201:
                                    client.post(f"/api/tasks/{t.json()['id']}/complete", headers=auth)
                                client.get(f"/api/projects/{p.json()['id']}", headers=auth)
                        if i % 10 == 0:
                            client.post("/api/events", json={"event": "page_viewed", "page": "/dashboard"}, headers=auth)
                    if i % 4 == 0:
                        for name, value in (("LCP", 1800), ("FCP", 900), ("TTFB", 200), ("INP", 120), ("CLS", 0.05)):
                            client.post("/api/rum/vitals", json={"name": name, "value": value, "page": "/dashboard"})
                    client.get("/health")
                except httpx.HTTPError:
                    pass
                i += 1
                self.requests += 1
                self.stop_event.wait(0.05)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    logs = tmp_path_factory.mktemp("monitoring-live")
    procs: list[ls.Proc] = []
    db = ls.Database()
    traffic = None
    try:
        capture, capture_url = ls.start_capture(logs)
        procs.append(capture)
        db.create()
        backend, api_url, metrics_addr = ls.start_backend(logs, db.url, capture_url)
        procs.append(backend)
        node, node_addr = ls.start_node_exporter(logs)
        procs.append(node)
        am, am_url = ls.start_alertmanager(logs, capture_url)
        procs.append(am)
        prom, prom_url = ls.start_prometheus(
            logs, {"backend": metrics_addr, "node-exporter": node_addr, "alertmanager": am_url.removeprefix("http://")},
            am_url.removeprefix("http://"))
        procs.append(prom)
        traffic = Traffic(api_url)
        traffic.start()
        yield {"api": api_url, "prometheus": prom_url, "alertmanager": am_url, "capture": capture_url,
               "logs": logs, "procs": {p.name: p for p in procs}}
    finally:
        if traffic:
            traffic.stop_event.set()
            traffic.join(10)
        for proc in reversed(procs):
            proc.stop()
        db.drop()


def test_dashboards_fill_under_light_traffic(stack):
    prom = stack["prometheus"]
    ls.wait_for("backend traffic in Prometheus",
                lambda: ls.prom_query(prom, 'sum(rate(http_requests_total{job="backend"}[1m])) > 0'), 60)

    def all_filled():
        results = check_panels(prom, rate_interval="1m", range_="1h")
        bad = [r for r in results if r.problem and not r.requires_fault and not r.query.title.startswith(NEEDS_FRONTEND)]
        all_filled.report = format_report(bad)
        return not bad

    all_filled.report = ""
    try:
        ls.wait_for("every panel to have data", all_filled, 60, interval=2)
    except AssertionError:
        pytest.fail("empty or failing panels (dashboard / row / title):\n" + all_filled.report)

    # Healthy traffic: nothing may fire or even be pending, except the missing Next.js target
    # (this test runs no frontend).
    active = {(a["labels"]["alertname"], a["labels"].get("job", "")) for a in ls.prom_alerts(prom)}
    assert active <= {("TargetMissing", "nextjs")}, active


def _pd_events(capture: str, action: str) -> list[dict]:
    return [i["payload"] for i in ls.captured(capture, "pagerduty")
            if i["payload"].get("event_action") == action and "HighErrorRate" in i["payload"]["payload"]["summary"]]


def _slack(capture: str, status: str) -> list[dict]:
    return [i for i in ls.captured(capture, "slack")
            if i["payload"]["attachments"][0]["title"].startswith(f"[{status}")
            and "HighErrorRate (backend)" in i["payload"]["attachments"][0]["title"]]


def _firing(prom: str, name: str) -> list[dict]:
    return [a for a in ls.prom_alerts(prom) if a["labels"]["alertname"] == name and a["state"] == "firing"]


def test_high_error_rate_fires_reaches_pagerduty_and_slack_and_resolves(stack):
    prom, capture, api = stack["prometheus"], stack["capture"], stack["api"]
    ls.wait_for("backend traffic in Prometheus",
                lambda: ls.prom_query(prom, 'sum(rate(http_requests_total{job="backend"}[15s])) > 0'), 60)
    assert not _firing(prom, "HighErrorRate"), "fired before any fault"

    started = time.monotonic()
    ls.http_json("PUT", f"{api}/_faults", {"error_ratio": 0.5})
    try:
        alert = ls.wait_for("HighErrorRate firing", lambda: _firing(prom, "HighErrorRate"), 90)[0]
        fired_after = time.monotonic() - started
        assert alert["labels"]["service"] == "backend" and alert["labels"]["severity"] == "critical"
        assert alert["annotations"]["runbook_url"] == f"{RUNBOOK_BASE_URL}/HighErrorRate.md"

        page = ls.wait_for("PagerDuty trigger", lambda: _pd_events(capture, "trigger"), 30)[0]
        routing_key = (stack["logs"] / "alertmanager/secrets/pagerduty_routing_key").read_text()
        assert page["routing_key"] == routing_key
        assert page["payload"]["severity"] == "critical"
        assert page["payload"]["summary"].startswith("HighErrorRate (backend): backend: ")
        assert page["payload"]["summary"].endswith("of requests fail with 5xx")
        details = page["payload"]["custom_details"]
        assert details["runbook_url"].endswith("/HighErrorRate.md") and details["service"] == "backend"
        assert page["links"][0]["href"].endswith("/HighErrorRate.md")

        slack = ls.wait_for("Slack #alerts firing", lambda: _slack(capture, "FIRING"), 30)[0]
        assert slack["channel"] == "alerts" and slack["payload"]["channel"] == "#alerts"
        text = slack["payload"]["attachments"][0]["text"]
        assert "of requests fail with 5xx* (critical)" in text and "Runbook: " + RUNBOOK_BASE_URL in text
        assert not [i for i in ls.captured(capture, "slack")
                    if i["channel"] == "engineering" and "HighErrorRate" in str(i["payload"])]
        # The injected exception type is new: NewErrorType reaches #engineering (first occurrence
        # of a counter series, and the Prometheus-history guard, both work against the real thing).
        ls.wait_for("NewErrorType in Slack #engineering", lambda: [
            i for i in ls.captured(capture, "slack")
            if i["channel"] == "engineering" and "new exception type InjectedFault" in str(i["payload"])], 30)
    finally:
        ls.http_json("DELETE", f"{api}/_faults")

    ls.wait_for("HighErrorRate to resolve in Prometheus", lambda: not _firing(prom, "HighErrorRate"), 90)
    resolve = ls.wait_for("PagerDuty resolve", lambda: _pd_events(capture, "resolve"), 30)[0]
    assert resolve["dedup_key"] == page["dedup_key"]
    ls.wait_for("Slack #alerts resolved", lambda: _slack(capture, "RESOLVED"), 30)
    print(f"HighErrorRate fired {fired_after:.1f}s after the fault (fast profile: 15s window, for 15s)")
