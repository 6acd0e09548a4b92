"""The API as deployed: gunicorn with two uvicorn workers (gunicorn_conf.py), metrics served by the
master on their own port from the multiprocess directory. Real PostgreSQL, Redis and Spotlight."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import urllib.request

import pytest
from prometheus_client.mmap_dict import MmapedDict

from tests.obs_support import free_port, http, spotlight_bin, start_gunicorn, start_spotlight, wait_until

pytestmark = pytest.mark.filterwarnings("ignore")


def scrape(metrics_url: str, openmetrics: bool = False) -> str:
    headers = {"Accept": "application/openmetrics-text; version=1.0.0"} if openmetrics else {}
    req = urllib.request.Request(metrics_url + "/metrics", headers=headers)
    with urllib.request.urlopen(req, timeout=5) as resp:
        return resp.read().decode()


def value(text: str, line_prefix: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(line_prefix):
            total += float(line.split(" ")[1])
    return total


@pytest.fixture
def gunicorn_env(database_url, redis_prefix, tmp_path):
    return {
        "DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:6379/11", "REDIS_KEY_PREFIX": redis_prefix,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "mp"),
        "SENTRY_TRACES_SAMPLE_RATE": "1.0", "SENTRY_TRACES_MAX_PER_SECOND": "0",  # every request traced
        "SENTRY_SPOTLIGHT_URL": f"http://127.0.0.1:{free_port()}/stream", "ANALYTICS_DELIVERY_ENABLED": "false",
        "FAULT_INJECTION_ENABLED": "true", "FAULT_STATE_FILE": str(tmp_path / "faults.json"),
        "LOG_LEVEL": "WARNING",
    }


def test_two_workers_counts_add_up_promtool_clean_and_exemplars(gunicorn_env, tmp_path):
    proc, api, metrics = start_gunicorn(gunicorn_env, workers=2)
    try:
        wait_until(lambda: value(scrape(metrics), "db_pool_size") == 20, timeout=20,
                   what="both workers started (2 x DB_POOL_SIZE 10, live-summed)")
        n = 300
        for i in range(n):  # a new connection each time, so the kernel spreads them over both workers
            assert http("GET", f"{api}/api/rum/unknown-{i}")[0] == 404
        # each worker writes its request counts every 0.25 s (app/core/metrics_batch.py)
        served = 'http_requests_total{method="GET",route="<unmatched>",status_code="404"}'
        wait_until(lambda: value(scrape(metrics), served) == n, timeout=10, interval=0.1,
                   what=f"{n} requests counted over both workers")
        text = scrape(metrics)
        assert value(text, served) == n
        per_worker = unmatched_requests_in_files(tmp_path / "mp")
        assert len([c for c in per_worker.values() if c > 0]) == 2, f"both workers served: {per_worker}"
        assert value(text, "process_cpu_seconds_total") > 0 and "process_resident_memory_bytes" in text

        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stdout + check.stderr

        def me_exemplar_lines() -> list[str] | None:
            # sampled (rate 1.0) requests leave trace-ID exemplars; a worker writes them after the
            # response and at most once a second, so keep requesting until /api/me's is scraped
            # (the 404s above already left exemplars of their own)
            http("GET", api + "/api/me")
            text = scrape(metrics, openmetrics=True)
            lines = [ln for ln in text.splitlines() if ln.startswith("http_request_duration_seconds_bucket{")
                     and 'route="/api/me"' in ln and '# {trace_id="' in ln]
            return lines or None

        wait_until(me_exemplar_lines, timeout=10, interval=0.2, what="an /api/me exemplar in the OpenMetrics output")
        assert http("GET", api + "/metrics")[0] == 404  # never on the API port
    finally:
        proc.stop()


def unmatched_requests_in_files(mp_dir) -> dict[str, float]:
    """Per worker file, the requests its counter file holds for unmatched routes."""
    return {path.stem: sum(v for k, v, *_ in MmapedDict.read_all_values_from_file(str(path))
                           if "http_requests_total" in k and "unmatched" in k)
            for path in mp_dir.glob("counter_*.db")}


def test_a_graceful_stop_writes_the_last_batched_counts(gunicorn_env, tmp_path):
    # no periodic flush within the test: what reaches the files is the shutdown flush's
    env = {**gunicorn_env, "METRICS_FLUSH_SECONDS": "3600"}
    proc, api, metrics = start_gunicorn(env, workers=1)
    try:
        wait_until(lambda: value(scrape(metrics), "db_pool_size") == 10, timeout=20, what="the worker started")
        n = 40
        for i in range(n):
            assert http("GET", f"{api}/api/rum/unknown-{i}")[0] == 404
        served = 'http_requests_total{method="GET",route="<unmatched>",status_code="404"}'
        assert value(scrape(metrics), served) == 0, "held in the worker's batch until a flush"
        proc.signal(signal.SIGTERM)
        proc.popen.wait(20)
        assert proc.popen.returncode == 0
        assert sum(unmatched_requests_in_files(tmp_path / "mp").values()) == n, "every request counted by the last flush"
    finally:
        proc.stop()


@pytest.mark.needs_fault_routes
def test_sigterm_drains_in_flight_requests(gunicorn_env):
    proc, api, metrics = start_gunicorn(gunicorn_env, workers=1)
    try:
        assert http("PUT", api + "/_faults", {"latency_ms": 1500, "latency_routes": ["/api/me"]})[0] == 200
        result = {}

        def slow() -> None:
            result["status"] = http("GET", api + "/api/me", timeout=10)[0]

        t = threading.Thread(target=slow)
        t.start()
        wait_until(lambda: value(scrape(metrics), 'http_requests_in_progress{method="GET"}') >= 1, timeout=5,
                   what="the slow request in flight inside a worker")
        proc.signal(signal.SIGTERM)
        t.join(10)
        assert result.get("status") == 401  # completed normally (unauthenticated), not cut off
        proc.popen.wait(15)
        assert proc.popen.returncode == 0
    finally:
        proc.stop()


@pytest.mark.needs_fault_routes
@pytest.mark.skipif(spotlight_bin() is None, reason="Spotlight not installed under infra/spotlight")
def test_exception_reaches_real_spotlight_without_the_password(gunicorn_env):
    spot, spot_url = start_spotlight()
    env = {**gunicorn_env, "SENTRY_SPOTLIGHT_URL": spot_url + "/stream", "SENTRY_TRACES_SAMPLE_RATE": "0"}
    proc, api, _ = start_gunicorn(env, workers=1)
    try:
        assert http("PUT", api + "/_faults", {"error_ratio": 1.0, "error_routes": ["/api/auth/login"]})[0] == 200
        status, headers, body = http("POST", api + "/api/auth/login",
                                     {"email": "spot@example.com", "password": "Spotlight-Secret-123"},
                                     headers={"X-Request-ID": "spotlight-req-1"})
        assert status == 500 and json.loads(body)["request_id"] == "spotlight-req-1"

        def stream_has_event() -> str | None:
            req = urllib.request.Request(spot_url + "/stream", headers={"Accept": "text/event-stream"})
            chunks = []
            try:
                with urllib.request.urlopen(req, timeout=1.5) as resp:
                    while True:
                        line = resp.readline()
                        if not line:
                            break
                        chunks.append(line.decode(errors="replace"))
                        if "spotlight-req-1" in chunks[-1]:
                            return "".join(chunks)
            except (TimeoutError, OSError):
                pass
            return None

        data = wait_until(stream_has_event, timeout=15, what="the event in Spotlight")
        assert '"request_id":"spotlight-req-1"' in data.replace(" ", "")
        assert "InjectedFault" in data
        assert "Spotlight-Secret-123" not in data and "spot@example.com" not in data
    finally:
        proc.stop()
        spot.stop()
