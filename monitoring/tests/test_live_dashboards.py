"""Live: the dashboards fill in a real Prometheus (fast profile) scraping the real backend.

The stack library (infra/local/stack.py) starts the capture server, Spotlight, the backend
(gunicorn, 2 workers, fault injection on, a database of its own), node-exporter, Alertmanager and
Prometheus on free ports; a background client drives light traffic through the product funnel.
Every dashboard panel query then returns data, except panels marked as needing a fault and the
Next.js panels (no frontend here; the load harness checks those with the full stack). Healthy
traffic fires nothing. That an injected fault fires alerts that reach PagerDuty and Slack is
proven by the load harness (error_burst); test_send_test_alert.py checks what those messages carry.

On the same stack: a slow, sampled request's trace ID reaches Prometheus' exemplar storage
(`--enable-feature=exemplar-storage`, /api/v1/query_exemplars) and the same trace reaches
Spotlight, so "follow the exemplar to its trace" (SlowAPI runbook) works end to end.
"""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest

from infra.local import datastores
from infra.local.services import Ports
from infra.local.stack import Stack
from infra.testkit import Faults, Prometheus, wait_until
from infra.testkit.spotlight import SpotlightCollector
from monitoring.dashboards.queries import check_panels, format_report
from monitoring.profiles import FAST

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
                        client.post("/api/rum/pageviews", json={"page": ("/", "/pricing", "/signup")[i // 4 % 3]})
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
    database_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/ns_monitoring_{uuid.uuid4().hex[:10]}"
    live = Stack(Ports.free(), FAST, tmp_path_factory.mktemp("monitoring-live"), with_frontend=False,
                 database_url=database_url, redis_url="redis://127.0.0.1:6379/14",
                 backend_env={"REDIS_KEY_PREFIX": f"nsmon{uuid.uuid4().hex[:8]}:", "RATE_LIMIT_AUTH_PER_MINUTE": "0",
                              "RATE_LIMIT_RUM_PER_MINUTE": "0",
                              "MIXPANEL_TOKEN": "monitoring-live-test", "ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"})
    traffic = None
    try:
        env = live.up()
        traffic = Traffic(env["BACKEND_URL"])
        traffic.start()
        # the proxy secret lets the exemplar test decide its request's sampling, as the web app does
        yield {**env, "TRUSTED_PROXY_SECRET": live.backend_env["TRUSTED_PROXY_SECRET"]}
    finally:
        if traffic:
            traffic.stop_event.set()
            traffic.join(10)
        live.down()
        datastores.drop_database(database_url)


def test_dashboards_fill_under_light_traffic(stack):
    prom = stack["PROMETHEUS_URL"]
    wait_until(lambda: Prometheus(prom).query('sum(rate(http_requests_total{job="backend"}[1m])) > 0'), 60,
               what="backend traffic in Prometheus")

    def all_filled():
        results = check_panels(prom, rate_interval="1m", range_="1h")
        bad = [r for r in results if r.problem and not r.requires_fault and not r.query.title.startswith(NEEDS_FRONTEND)]
        all_filled.report = format_report(bad)
        return not bad

    all_filled.report = ""
    try:
        wait_until(all_filled, 60, interval=2, what="every panel to have data")
    except AssertionError:
        pytest.fail("empty or failing panels (dashboard / row / title):\n" + all_filled.report)

    # Healthy traffic: nothing may fire or even be pending, except the missing Next.js target
    # (this test runs no frontend; the stack scrapes its port all the same, as `make up --no-frontend` does).
    active = {(a["labels"]["alertname"], a["labels"].get("job", "")) for a in Prometheus(prom).alerts()}
    assert active <= {("TargetMissing", "nextjs"), ("ServiceDown", "nextjs")}, active


SLOW_ROUTE = "/api/billing/plan"  # the light traffic never calls it: its slow bucket stays ours
SLOW_MS = 600


@pytest.mark.needs_fault_routes
def test_a_slow_sampled_request_links_its_exemplar_to_its_trace_in_spotlight(stack):
    trace_id, span_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    spotlight = SpotlightCollector(stack["SPOTLIGHT_URL"])
    spotlight.start()
    try:
        with Faults(stack["BACKEND_URL"]).injected(latency_ms=SLOW_MS, latency_routes=[SLOW_ROUTE]):
            # sampled upstream (sentry-trace ...-1) through the trusted proxy hop, as from the web app
            response = httpx.get(stack["BACKEND_URL"] + SLOW_ROUTE, timeout=10, headers={
                "sentry-trace": f"{trace_id}-{span_id}-1", "X-Trusted-Proxy-Secret": stack["TRUSTED_PROXY_SECRET"]})
        assert response.status_code == 401 and response.elapsed.total_seconds() >= SLOW_MS / 1000

        def stored_exemplars() -> list[dict]:
            now = time.time()
            groups = httpx.get(stack["PROMETHEUS_URL"] + "/api/v1/query_exemplars", timeout=5, params={
                "query": f'http_request_duration_seconds_bucket{{job="backend",route="{SLOW_ROUTE}"}}',
                "start": now - 600, "end": now}).json()["data"]
            return [{**e, "le": g["seriesLabels"]["le"]} for g in groups for e in g["exemplars"]
                    if e["labels"].get("trace_id") == trace_id]

        (exemplar, *_) = wait_until(stored_exemplars, 60, interval=1, what=f"exemplar trace_id={trace_id} in Prometheus")
        assert float(exemplar["value"]) >= SLOW_MS / 1000 and float(exemplar["le"]) >= SLOW_MS / 1000, exemplar

        def transactions() -> list[dict]:
            return [payload for env in spotlight.snapshot() for header, payload in env.items
                    if header.get("type") == "transaction" and isinstance(payload, dict)
                    and ((payload.get("contexts") or {}).get("trace") or {}).get("trace_id") == trace_id]

        (transaction, *_) = wait_until(transactions, 30, interval=0.5, what=f"transaction of trace {trace_id} in Spotlight")
        assert SLOW_ROUTE in transaction.get("transaction", ""), transaction.get("transaction")
    finally:
        spotlight.stop()
