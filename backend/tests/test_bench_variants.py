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

import pytest

from bench.app_factory import MODES
from bench.loopback_sink import LoopbackSink
from bench.run import (TARGETS, VARIANTS, Result, Variant, check_targets, paced_rates, think_time_ms, traced_shares,
                       variant_env, wrk_paced)
from bench.smoke import RESULT_PREFIX
from tests.conftest import BACKEND_DIR, TEST_REDIS_URL
from infra.local.app_server import LiveServer

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


def test_the_paced_pass_offers_about_the_rate_asked_however_fast_the_server_answers(database_url, redis_prefix, db,
                                                                                   tmp_path):
    # the bare bench app's /ready (uvicorn, a PostgreSQL probe) answers in about a millisecond: run
    # unpaced by wrk it would take hundreds a second more; paced at 200/s over 16 connections (80 ms
    # mean think time) it gets about that
    assert think_time_ms(200, 16) == 80.0
    env = {"DATABASE_URL": database_url, "REDIS_URL": TEST_REDIS_URL, "REDIS_KEY_PREFIX": redis_prefix + "paced:",
           "INSTRUMENTATION": "off", "SENTRY_DSN": "", "ANALYTICS_DELIVERY_ENABLED": "false", "LOG_LEVEL": "WARNING"}
    with LiveServer(env, app="bench.app_factory:create_app", log_path=tmp_path / "uvicorn.log") as server:
        result = wrk_paced(server.url + "/ready", "t", duration=3, rate=200)
    assert result.errors == 0
    assert 120 <= result.rps <= 220, result  # wrk's start and the connections' own cycle take a little off


def test_each_variant_reports_to_its_own_sink_path_and_its_traced_share_is_printed():
    env = variant_env({"SENTRY_SPOTLIGHT_URL": "http://127.0.0.1:9/stream", "A": "1"}, Variant("traced-10%", {"A": "2"}))
    assert env == {"SENTRY_SPOTLIGHT_URL": "http://127.0.0.1:9/stream/traced-10%25", "A": "2"}
    line = traced_shares({"traced-10%": 100, "capped": 3}, {"traced-10%": 1000.0, "capped": 300.0, "bare": 900.0})
    assert line == "(traced share: Sentry envelopes received per request served: traced-10% 10.0%, capped 1.0%)"


def test_each_verdict_shows_its_rounds_and_says_when_the_limit_is_inside_them():
    def rounds(*rps: float) -> dict[str, Result]:
        runs = tuple(Result(x, 1.0, 10.0, 0) for x in rps)
        median = sorted(rps)[len(rps) // 2]
        return {label: Result(median, 1.0, 10.0, 0, runs) for label in ("project (cached)", "projects list (DB)")}

    # round by round always-on is 0.88x, 0.95x, 0.91x of bare: the 0.92x limit is inside; traced
    # 0.70x-0.75x is below it in every round
    results = {"bare": rounds(1000, 1000, 1100), "always-on": rounds(880, 950, 1001), "traced-10%": rounds(700, 750, 800)}
    verdicts = {(v.variant, v.what): v for v in check_targets(results)}
    always_on, traced = verdicts[("always-on", "throughput")], verdicts[("traced-10%", "throughput")]
    assert always_on.per_round == pytest.approx((0.88, 0.95, 0.91)) and always_on.within_spread
    assert str(always_on).endswith("rounds 0.88-0.95x, the limit inside")
    assert traced.per_round == pytest.approx((0.70, 0.75, 800 / 1100)) and not traced.within_spread
    assert str(traced).endswith("rounds 0.70-0.75x")
    # without rounds (one round, or results made by hand) nothing is added
    single = check_targets({name: {label: Result(r.rps, 1.0, 10.0, 0) for label, r in row.items()}
                            for name, row in results.items()})
    assert all(v.per_round == () and not v.within_spread and "rounds" not in str(v) for v in single)


def test_make_bench_instructions_judges_the_always_on_throughput_targets_on_instruction_counts():
    from bench.inprocess import instruction_verdicts

    table = {"bare": {"cached": 2_000_000, "db": 6_000_000}, "always-on": {"cached": 2_150_000, "db": 6_600_000},
             "traced-10%": {"cached": 2_400_000, "db": 7_600_000}}
    verdicts = {(v.variant, v.endpoint): v for v in instruction_verdicts(table)}
    assert {v.what for v in verdicts.values()} == {"throughput"} and len(verdicts) == 2  # no p99 in instructions
    assert verdicts[("always-on", "project (cached)")].passed  # 0.930x
    assert not verdicts[("always-on", "projects list (DB)")].passed  # 0.909x
    # traced-10% is counted but not judged: its count reads high against its CPU time
    assert not any(variant == "traced-10%" for variant, _ in verdicts)
    assert all(v.pass_name == "instructions" for v in verdicts.values())
