"""Every variant `make bench` measures (bench/app_factory.py's modes) builds and answers the two
benchmarked endpoints against the real PostgreSQL and Redis, each in its own process (every
variant changes process-wide state), all at once; and the benchmark's targets are judged as
stated (bench/run.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.app_factory import MODES
from bench.loopback_sink import LoopbackSink
from bench.run import (TARGETS, VARIANTS, Result, Variant, check_targets, paced_rates, think_time_ms, traced_shares,
                       variant_env, wrk_paced)
from bench.smoke import RESULT_PREFIX
from tests.conftest import BACKEND_DIR, TEST_REDIS_URL

# Request IDs come from the app's middleware (full), the seed's, or asgi-correlation-id (handwired).
WITH_REQUEST_ID = {"full", "seed", "handwired"}
# Processes of modes that may share one (bench/smoke.py); together every mode.
PROCESSES = (("off", "seed", "full"), ("otel",), ("handwired",))


def test_every_bench_variant_builds_and_answers(database_url, redis_prefix, db):  # db: cleaned after
    sink = LoopbackSink()
    try:
        base = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": TEST_REDIS_URL,
                "REDIS_KEY_PREFIX": redis_prefix + "bench:", "SENTRY_DSN": "", "SENTRY_SPOTLIGHT_URL": sink.url,
                "BENCH_SINK_URL": sink.url, "ANALYTICS_DELIVERY_ENABLED": "false", "RATE_LIMIT_AUTH_PER_MINUTE": "0",
                "LOG_LEVEL": "WARNING"}
        procs = [subprocess.Popen(
            [sys.executable, "-m", "bench.smoke", *modes], cwd=BACKEND_DIR, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env={**base, "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="ns-smoke-")})
            for modes in PROCESSES]
        results = {}
        for modes, proc in zip(PROCESSES, procs):
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, (modes, err.decode()[-3000:])
            for line in out.decode().splitlines():
                if line.startswith(RESULT_PREFIX):
                    result = json.loads(line.removeprefix(RESULT_PREFIX))
                    results[result.pop("mode")] = result
    finally:
        sink.close()
    assert sorted(results) == sorted(MODES)
    for mode, result in results.items():
        assert result["statuses"] == [201, 201, 200, 200], (mode, result)
        assert (result["request_id"] is not None) == (mode in WITH_REQUEST_ID), (mode, result)


def test_targets_pass_and_fail_on_the_measured_ratios():
    def row(rps: float, p99: float) -> dict[str, Result]:
        return {label: Result(rps, 1.0, p99, 0) for label in ("project (cached)", "projects list (DB)")}

    results = {"bare": row(1000, 100), "always-on": row(930, 111), "traced-10%": row(790, 105)}
    verdicts = {(v.variant, v.what): v.passed for v in check_targets(results)}
    assert len(check_targets(results)) == 2 * len(TARGETS)
    assert verdicts[("always-on", "throughput")] is True
    assert verdicts[("always-on", "p99")] is False  # 1.11x
    assert verdicts[("traced-10%", "throughput")] is False  # 0.79x
    assert {v.pass_name for v in check_targets(results)} == {"saturated"}  # no paced pass: p99 from wrk's


def test_p99_targets_are_judged_on_the_paced_pass_when_it_ran():
    def row(rps: float, p99: float) -> dict[str, Result]:
        return {label: Result(rps, 1.0, p99, 0) for label in ("project (cached)", "projects list (DB)")}

    saturated = {"bare": row(1000, 100), "always-on": row(930, 150), "traced-10%": row(850, 90)}
    paced = {"bare": row(500, 10), "always-on": row(500, 10.5), "traced-10%": row(500, 12)}
    verdicts = {(v.variant, v.what): v for v in check_targets(saturated, paced)}
    assert verdicts[("always-on", "p99")].passed and verdicts[("always-on", "p99")].pass_name == "paced"  # 1.05x
    assert not verdicts[("traced-10%", "p99")].passed  # 1.2x paced, though 0.9x saturated
    assert verdicts[("traced-10%", "throughput")].pass_name == "saturated"
    assert paced_rates(saturated, 0.5) == {"project (cached)": 500.0, "projects list (DB)": 500.0}
    # every variant a p99 target names is in the paced pass, and so is the reference
    paced_names = {v.name for v in VARIANTS if v.paced}
    assert VARIANTS[0].paced and {name for name, what, _ in TARGETS if what == "p99"} <= paced_names


class _Answers(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        # one write: headers and body apart would wait on Nagle and the delayed ACK (40 ms)
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # wrk resets its connections when it stops


def test_the_paced_pass_offers_about_the_rate_asked_however_fast_the_server_answers():
    # a server that answers in well under a millisecond, run unpaced by wrk it would take thousands a
    # second; paced at 200/s over 16 connections (80 ms mean think time) it gets about that
    assert think_time_ms(200, 16) == 80.0
    server = _QuietServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = wrk_paced(f"http://127.0.0.1:{server.server_address[1]}/", "t", duration=3, rate=200)
    finally:
        server.shutdown()
        server.server_close()
    assert result.errors == 0
    assert 120 <= result.rps <= 220, result  # wrk's start and the connections' own cycle take a little off
