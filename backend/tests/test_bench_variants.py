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

from bench.app_factory import MODES
from bench.loopback_sink import LoopbackSink
from bench.run import TARGETS, Result, Variant, check_targets, traced_shares, variant_env
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


def test_each_variant_reports_to_its_own_sink_path_and_its_traced_share_is_printed():
    env = variant_env({"SENTRY_SPOTLIGHT_URL": "http://127.0.0.1:9/stream", "A": "1"}, Variant("traced-10%", {"A": "2"}))
    assert env == {"SENTRY_SPOTLIGHT_URL": "http://127.0.0.1:9/stream/traced-10%25", "A": "2"}
    line = traced_shares({"traced-10%": 100, "capped": 3}, {"traced-10%": 1000.0, "capped": 300.0, "bare": 900.0})
    assert line == "(traced share: Sentry envelopes received per request served: traced-10% 10.0%, capped 1.0%)"
