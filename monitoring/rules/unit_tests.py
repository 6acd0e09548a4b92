"""promtool unit tests for every alert, written once and rendered for each profile.

Timelines are written in production time (sample interval, eval times) and divided by the
profile's scale, exactly like the rules. Counters are written as per-second rates, so the
same rate (and the same rate guards) hold in both profiles. Each alert has at least one case
where it fires (with its exact labels and annotations) and one where it must stay silent;
`monitoring/scripts/check_alert_tests.py` enforces that on the rendered files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from infra.product import PRODUCT
from monitoring.profiles import Profile, parse_duration
from monitoring.rules.catalogue import MONTH_SECONDS, PRICES, SLO_OBJECTIVES, Alert, runbook_url

SVC = PRODUCT.service  # the API's service label (product.toml)
BACKEND = {"job": "backend", "instance": "127.0.0.1:8001", "service": SVC}
BACKEND_2 = {**BACKEND, "instance": "127.0.0.1:8011"}
FRONTEND = {"job": "nextjs", "instance": "127.0.0.1:3000", "service": "frontend"}
PROMETHEUS = {"job": "prometheus", "instance": "127.0.0.1:9090", "service": "prometheus"}


def sel(name: str, base: dict, **labels: str) -> str:
    merged = {**base, **labels}
    inner = ",".join(f'{k}="{v}"' for k, v in merged.items())
    return f"{name}{{{inner}}}"


def _num(x: float) -> str:
    return f"{x:.10g}"


class Timeline:
    """Builds promtool `values` strings; segment lengths are numbers of samples."""

    def __init__(self, p: Profile, interval: str = "1m"):
        self.p = p
        self.interval = p.d(interval)
        self.step = parse_duration(self.interval)

    def counter(self, *segments: tuple) -> str:
        """segments: (rate_per_second, samples) or ("gap", samples); starts at 0."""
        parts, value, started = [], 0.0, False
        for rate, count in segments:
            if rate == "gap":
                parts.append(f"_x{count}")
                continue
            inc = rate * self.step
            start = value + (inc if started else 0.0)
            parts.append(f"{_num(start)}+{_num(inc)}x{count - 1}")
            value, started = start + inc * (count - 1), True
        return " ".join(parts)

    def counts(self, per_sample: float, samples: int) -> str:
        """A counter growing by a fixed count per sample: for count thresholds ("> 10 in 5m"),
        which keep their value in every profile while rates do not."""
        return f"0+{_num(per_sample)}x{samples - 1}"

    def born(self, gap: int, first: float, rate: float, samples: int) -> str:
        """A counter absent for `gap` samples that appears with value `first`, then grows."""
        inc = rate * self.step
        return f"_x{gap} {_num(first)}+{_num(inc)}x{samples - 1}"

    def gauge(self, *segments: tuple) -> str:
        """segments: (value, samples) or ("gap", samples)."""
        return " ".join(f"_x{n}" if v == "gap" else f"{_num(v)}x{n - 1}" for v, n in segments)


@dataclass
class Case:
    name: str
    series: list[tuple[str, str]]
    # (eval_time in production time, alertname, expected alerts as (labels, summary)); the
    # description and runbook_url are rendered from the catalogue with those labels.
    checks: list[tuple[str, str, list[tuple[dict, str]]]]
    interval: str = "1m"

    def render(self, p: Profile, alerts: dict[str, Alert], runbook_base: str) -> dict:
        return {
            "name": self.name,
            "interval": p.d(self.interval),
            "input_series": [{"series": s, "values": v} for s, v in self.series],
            "alert_rule_test": [
                {"eval_time": p.d(t), "alertname": name,
                 "exp_alerts": [{"exp_labels": labels,
                                 "exp_annotations": expected_annotations(alerts[name], labels, summary,
                                                                         runbook_base)}
                                for labels, summary in exp]}
                for t, name, exp in self.checks
            ],
        }


@dataclass
class AlertTests:
    alert: str
    cases: list[Case] = field(default_factory=list)
    # Coarser rule evaluation for day-long timelines keeps promtool fast (samples stay 1m apart).
    evaluation_interval: str = "1m"


_LABEL_REF = re.compile(r"\{\{ \$labels\.(\w+) \}\}")


def expected_annotations(alert: Alert, labels: dict, summary: str, runbook_base: str) -> dict:
    """The summary is written out by hand in each case (it tests the template functions);
    descriptions may only use plain `{{ $labels.x }}` references, substituted here."""
    description = _LABEL_REF.sub(lambda m: labels[m.group(1)], alert.description)
    if "{{" in description:
        raise ValueError(f"{alert.alert}: description uses a template the test renderer cannot expand")
    return {"summary": summary, "description": description,
            "runbook_url": runbook_url(alert.alert, runbook_base)}


def all_tests(p: Profile) -> list[AlertTests]:
    t = Timeline(p)
    d = p.d

    req = lambda status, **kw: sel("http_requests_total", BACKEND, method="GET", route="/api/projects",
                                   status_code=status, **kw)
    bucket = lambda le: sel("http_request_duration_seconds_bucket", BACKEND, method="GET",
                            route="/api/projects", le=le)
    dcount = sel("http_request_duration_seconds_count", BACKEND, method="GET", route="/api/projects")
    exc = lambda typ: sel("http_unhandled_exceptions_total", BACKEND, exception_type=typ,
                          route="/api/projects/{project_id}")
    up_b, up_f = sel("up", BACKEND), sel("up", FRONTEND)
    up_b2 = sel("up", BACKEND_2)  # the HA topology's second backend instance
    lowest_ts = sel("prometheus_tsdb_lowest_timestamp_seconds", PROMETHEUS)
    crit_b = {"service": SVC, "severity": "critical"}
    warn_b = {"service": SVC, "severity": "warning"}

    def latency_histogram(*segments: tuple) -> list[tuple[str, str]]:
        """segments: ({le: fraction_at_or_below}, samples) at 1 request/s."""
        les = ["0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "+Inf"]
        out = []
        for le in les:
            out.append((bucket(le), t.counter(*[(fr.get(le, 1.0), n) for fr, n in segments])))
        out.append((dcount, t.counter(*[(1, n) for _, n in segments])))
        out.append((req("200"), t.counter(*[(1, n) for _, n in segments])))
        return out

    slow = {"0.1": 0, "0.25": 0, "0.5": 0, "1.0": 0, "2.5": 0}           # all in (2.5, 5]
    fast = {"0.1": 1}
    base_day = {"0.1": 0, "0.25": 1}                                         # all in (0.1, 0.25]
    worse_day = {"0.1": 0, "0.25": 0}                                        # all in (0.25, 0.5]

    tests = [
        AlertTests("HighErrorRate", [
            Case("5xx ratio above 5% fires per service (frontend healthy, backend failing)", [
                (req("200"), t.counter((2, 20))),
                (req("500"), t.counter((1, 20))),
                (sel("nextjs_requests_total", FRONTEND, route="/dashboard", status_code="200"),
                 t.counter((5, 20))),
            ], [("12m", "HighErrorRate", [(crit_b, f"{SVC}: 33.33% of requests fail with 5xx")])]),
            Case("errors aggregated over routes, frontend 5xx counted for the frontend", [
                (sel("nextjs_requests_total", FRONTEND, route="/dashboard", status_code="500"), t.counter((1, 20))),
                (sel("nextjs_requests_total", FRONTEND, route="/", status_code="200"), t.counter((1, 20))),
            ], [("12m", "HighErrorRate", [({"service": "frontend", "severity": "critical"},
                                           "frontend: 50% of requests fail with 5xx")])]),
            Case("healthy (2% errors), low traffic (50% of 0.1 rps) and recovery stay silent", [
                (req("200"), t.counter((5, 30))),
                (req("500"), t.counter((0.1, 30))),
                (sel("http_requests_total", BACKEND, method="GET", route="/", status_code="200", service="idle"),
                 t.counter((0.05, 30))),
                (sel("http_requests_total", BACKEND, method="GET", route="/", status_code="503", service="idle"),
                 t.counter((0.05, 30))),
                (sel("http_requests_total", BACKEND, method="GET", route="/", status_code="200", service="recovered"),
                 t.counter((2, 30))),
                (sel("http_requests_total", BACKEND, method="GET", route="/", status_code="500", service="recovered"),
                 t.counter((2, 12), (0, 18))),
            ], [("10m", "HighErrorRate", [({"service": "recovered", "severity": "critical"},
                                           "recovered: 50% of requests fail with 5xx")]),
                ("25m", "HighErrorRate", [])]),
        ]),
        AlertTests("SlowAPI", [
            Case("p95 above 2s fires", latency_histogram((slow, 20)),
                 [("12m", "SlowAPI", [(warn_b, f"{SVC}: p95 latency is 4.875s")])]),
            Case("fast requests stay silent", latency_histogram((fast, 20)), [("12m", "SlowAPI", [])]),
            Case("slow but only 0.05 req/s stays silent", [
                (bucket("2.5"), t.counter((0, 20))), (bucket("+Inf"), t.counter((0.05, 20))),
                (req("200"), t.counter((0.05, 20))),
            ], [("12m", "SlowAPI", [])]),
        ]),
        AlertTests("LatencyRegression", [
            Case("p95 twice yesterday's fires", latency_histogram((base_day, 1440), (worse_day, 61)),
                 [("1d1h", "LatencyRegression", [(warn_b, f"{SVC}: p95 latency 487.5ms is more than 20% above the same time {d('1d')} ago")])]),
            Case("same latency as yesterday stays silent", latency_histogram((worse_day, 1501)),
                 [("1d1h", "LatencyRegression", [])]),
            Case("no data a day earlier stays silent", latency_histogram((worse_day, 61)),
                 [("1h", "LatencyRegression", [])]),
        ], evaluation_interval="5m"),
        AlertTests("DatabaseConnectionsHigh", [
            Case("14 of 15 connections checked out fires", [
                (sel("db_pool_size", BACKEND), t.gauge((20, 15))),
                (sel("db_pool_max_overflow", BACKEND), t.gauge((10, 15))),
                (sel("db_pool_checked_out", BACKEND), t.gauge((28, 15))),
            ], [("10m", "DatabaseConnectionsHigh", [(warn_b, f"{SVC}: DB pool 93.33% used")])]),
            Case("half the pool and an unconfigured pool stay silent", [
                (sel("db_pool_size", BACKEND), t.gauge((20, 15))),
                (sel("db_pool_max_overflow", BACKEND), t.gauge((10, 15))),
                (sel("db_pool_checked_out", BACKEND), t.gauge((15, 15))),
                (sel("db_pool_size", BACKEND, service="other"), t.gauge((0, 15))),
                (sel("db_pool_max_overflow", BACKEND, service="other"), t.gauge((0, 15))),
                (sel("db_pool_checked_out", BACKEND, service="other"), t.gauge((3, 15))),
            ], [("10m", "DatabaseConnectionsHigh", [])]),
        ]),
        AlertTests("ErrorBurst", [
            Case("a new exception type raised 12 times at once fires (first occurrence counted)", [
                (exc("ValueError"), t.born(10, 12, 0, 10)),
            ], [("11m", "ErrorBurst", [(warn_b, f"{SVC}: 12 unhandled exceptions in {d('5m')}")]),
                ("17m", "ErrorBurst", [])]),
            Case("an existing counter growing 3/min fires; 5 new exceptions stay silent", [
                (exc("KeyError"), t.counts(3, 20)),
                (sel("http_unhandled_exceptions_total", BACKEND, exception_type="KeyError", route="/", service="quiet"),
                 t.born(10, 5, 0, 10)),
            ], [("15m", "ErrorBurst", [(warn_b, f"{SVC}: 15 unhandled exceptions in {d('5m')}")])]),
        ]),
        AlertTests("ErrorStorm", [
            Case("150 exceptions in the window fires", [(exc("RuntimeError"), t.born(10, 150, 0, 10))],
                 [("11m", "ErrorStorm", [(crit_b, f"{SVC}: 150 unhandled exceptions in {d('5m')}")])]),
            Case("50 exceptions stays silent", [(exc("RuntimeError"), t.born(10, 50, 0, 10))],
                 [("11m", "ErrorStorm", [])]),
        ]),
        AlertTests("NewErrorType", [
            Case("a type never seen before fires, a known one does not", [
                (lowest_ts, t.gauge((0, 30))),
                (exc("KeyError"), t.gauge((1, 30))),
                (exc("ValueError"), t.born(10, 1, 0, 20)),
            ], [("11m", "NewErrorType", [({"service": SVC, "severity": "warning", "exception_type": "ValueError"},
                                          f"{SVC}: new exception type ValueError")]),
                ("17m", "NewErrorType", [])]),
            Case("a type seen before a restart (series gone and back) stays silent", [
                (lowest_ts, t.gauge((0, 40))),
                (exc("KeyError"), t.gauge((3, 10), ("gap", 10), (1, 20))),
            ], [("21m", "NewErrorType", [])]),
            Case("a fresh Prometheus (less history than the window) stays silent", [
                (lowest_ts, t.gauge((p.seconds(500), 30))),
                (exc("ValueError"), t.born(10, 1, 0, 20)),
            ], [("11m", "NewErrorType", [])]),
        ]),
        AlertTests("AnalyticsBacklog", [
            Case("old events waiting fires (age), a deep queue fires (depth)", [
                (sel("analytics_outbox_oldest_age_seconds", BACKEND), t.gauge((p.seconds(600), 20))),
                (sel("analytics_outbox_depth", BACKEND), t.gauge((6000, 20))),
            ], [("15m", "AnalyticsBacklog", [
                ({**warn_b, "reason": "oldest_event_age_seconds"},
                 f"{SVC}: analytics outbox oldest_event_age_seconds is {p.seconds(600)}"),
                ({**warn_b, "reason": "depth"}, f"{SVC}: analytics outbox depth is 6000"),
            ])]),
            Case("a small, young queue stays silent", [
                (sel("analytics_outbox_oldest_age_seconds", BACKEND), t.gauge((p.seconds(30), 20))),
                (sel("analytics_outbox_depth", BACKEND), t.gauge((10, 20))),
            ], [("15m", "AnalyticsBacklog", [])]),
        ]),
        AlertTests("CacheErrorsHigh", [
            Case("half the cache calls failing fires", [
                (sel("cache_requests_total", BACKEND, cache="project", result="hit"), t.counter((1, 20))),
                (sel("cache_requests_total", BACKEND, cache="project", result="error"), t.counter((1, 20))),
            ], [("12m", "CacheErrorsHigh", [(warn_b, f"{SVC}: 50% of cache requests fail")])]),
            Case("errors at 0.05/s stay silent", [
                (sel("cache_requests_total", BACKEND, cache="project", result="hit"), t.counter((0.05, 20))),
                (sel("cache_requests_total", BACKEND, cache="project", result="error"), t.counter((0.05, 20))),
            ], [("12m", "CacheErrorsHigh", [])]),
        ]),
        AlertTests("BillingProviderFailing", [
            Case("timeouts (a series born mid-way) at half the calls fire", [
                (sel("billing_provider_requests_total", BACKEND, outcome="ok"), t.counts(6, 20)),
                (sel("billing_provider_requests_total", BACKEND, outcome="timeout"), t.born(10, 6, 0, 1) + " 12+6x8"),
            ], [("17m", "BillingProviderFailing", [(warn_b, f"{SVC}: 50% of payment provider calls fail")])]),
            Case("one timeout stays silent", [
                (sel("billing_provider_requests_total", BACKEND, outcome="ok"), t.counts(1, 20)),
                (sel("billing_provider_requests_total", BACKEND, outcome="timeout"), t.born(10, 1, 0, 10)),
            ], [("17m", "BillingProviderFailing", [])]),
        ]),
        AlertTests("ServiceDown", [
            Case("a target down for 5 minutes fires", [(up_b, t.gauge((1, 5), (0, 10)))],
                 [("10m", "ServiceDown", [({**BACKEND, "severity": "critical"}, f"{SVC} (backend at 127.0.0.1:8001) is down")])]),
            Case("one failed scrape stays silent", [(up_b, t.gauge((1, 5), (0, 1), (1, 10)))],
                 [("7m", "ServiceDown", [])]),
            Case("one of two backend instances down stays silent (BackendInstanceDown warns)",
                 [(up_b, t.gauge((1, 5), (0, 10))), (up_b2, t.gauge((1, 15)))], [("10m", "ServiceDown", [])]),
            Case("both backend instances down fires for each", [(up_b, t.gauge((1, 5), (0, 10))),
                                                               (up_b2, t.gauge((1, 5), (0, 10)))],
                 [("10m", "ServiceDown", [({**BACKEND, "severity": "critical"}, f"{SVC} (backend at 127.0.0.1:8001) is down"),
                                          ({**BACKEND_2, "severity": "critical"}, f"{SVC} (backend at 127.0.0.1:8011) is down")])]),
        ]),
        AlertTests("BackendInstanceDown", [
            Case("one of two instances down fires, naming it", [(up_b, t.gauge((1, 5), (0, 10))), (up_b2, t.gauge((1, 15)))],
                 [("10m", "BackendInstanceDown", [({**BACKEND, "severity": "warning"},
                                                   f"{SVC}: instance 127.0.0.1:8001 is down, the others serve")])]),
            Case("every instance down stays silent (ServiceDown pages)", [(up_b, t.gauge((1, 5), (0, 10))),
                                                                         (up_b2, t.gauge((1, 5), (0, 10)))],
                 [("10m", "BackendInstanceDown", [])]),
            Case("a single backend down stays silent", [(up_b, t.gauge((1, 5), (0, 10)))],
                 [("10m", "BackendInstanceDown", [])]),
        ]),
        AlertTests("TargetScrapeFailing", [
            Case("a flapping target fires", [(up_b, t.gauge(*[(i % 2, 1) for i in range(30)]))],
                 [("20m", "TargetScrapeFailing", [({**BACKEND, "severity": "warning"}, "backend at 127.0.0.1:8001: 10 up/down changes")])]),
            Case("one long outage (down then up) stays silent", [(up_b, t.gauge((1, 5), (0, 8), (1, 20)))],
                 [("12m", "TargetScrapeFailing", []), ("20m", "TargetScrapeFailing", [])]),
        ]),
        AlertTests("TargetMissing", [
            Case("no backend target fires", [(up_f, t.gauge((1, 20)))],
                 [("15m", "TargetMissing", [({"job": "backend", "service": SVC, "severity": "warning"},
                                             f"{SVC}: no backend target in Prometheus")])]),
            Case("both targets present (even down) stays silent", [(up_f, t.gauge((1, 20))), (up_b, t.gauge((0, 20)))],
                 [("15m", "TargetMissing", [])]),
        ]),
        AlertTests("BackendMetricsMissing", [
            Case("scrape up but no app_info fires", [(up_b, t.gauge((1, 10)))],
                 [("8m", "BackendMetricsMissing", [({**BACKEND, "severity": "warning"}, f"{SVC}: scrape succeeds but application metrics are missing")])]),
            Case("app_info present stays silent", [
                (up_b, t.gauge((1, 10))),
                (sel("app_info", BACKEND, version="abc123", environment="development"), t.gauge((1, 10))),
            ], [("8m", "BackendMetricsMissing", [])]),
        ]),
    ]

    # SLO burn-rate alerts (2 SLOs x page/ticket).
    def availability(ok_rps: float, err_rps: float, samples: int) -> list[tuple[str, str]]:
        return [(req("200"), t.counter((ok_rps, samples))), (req("500"), t.counter((err_rps, samples)))]

    def latency(good_fraction: float, samples: int) -> list[tuple[str, str]]:
        return [(bucket("1.0"), t.counter((good_fraction, samples))), (bucket("+Inf"), t.counter((1, samples))),
                (dcount, t.counter((1, samples))), (req("200"), t.counter((1, samples)))]

    # Bad-event ratios as multiples of each SLO's error budget (product.toml [slo]): 20x pages
    # (above 14.4x), 5x opens a ticket but does not page (between 3x and 6x), 0.5x is within budget.
    # 99.5% availability has a 5x larger budget than 99.9%, so 5x larger ratios are needed.
    def burning(slo: str, factor: float) -> float:
        return round(factor * (1 - SLO_OBJECTIVES[slo]), 9)

    av, lat = (lambda f: burning("availability", f)), (lambda f: burning("latency", f))
    for slo, fast_burn, slow_burn, quiet, low_traffic in (
        ("availability", availability(1 - av(20), av(20), 90), availability(1 - av(5), av(5), 140),
         availability(1 - av(0.5), av(0.5), 140), availability(0.01, 0.01, 90)),
        ("latency", latency(1 - lat(20), 90), latency(1 - lat(5), 140), latency(1 - lat(0.5), 140),
         [(bucket("1.0"), t.counter((0, 90))), (bucket("+Inf"), t.counter((0.02, 90))),
          (dcount, t.counter((0.02, 90))), (req("200"), t.counter((0.02, 90)))]),
    ):
        big, small = "20.0", "5.0"
        name = slo.capitalize()
        labels = lambda sev: {"service": SVC, "slo": slo, "severity": sev}
        page, ticket = f"{name}BudgetBurnPage", f"{name}BudgetBurnTicket"
        tests.append(AlertTests(page, [
            Case(f"{slo}: burning {big}x over 1h and 5m pages", fast_burn, [
                ("1h10m", page, [(labels("critical"), f"{SVC}: {slo} SLO error budget burning {big}x")])]),
            Case(f"{slo}: burning {small}x (below 6x) does not page", slow_burn, [("2h10m", page, [])]),
            Case(f"{slo}: within budget, and 0.02 req/s of bad traffic, stay silent", quiet + [
                (s.replace(f'service="{SVC}"', 'service="idle"'), v) for s, v in low_traffic], [("1h10m", page, [])]),
        ] + ([
            # argon2 makes sign-up slow on purpose: it is outside the latency SLO (catalogue.LATENCY_SLO_ROUTES)
            Case("latency: only slow sign-ups (auth routes are outside the SLO) do not page", quiet + [
                (s.replace('route="/api/projects"', 'route="/api/auth/signup"'), v) for s, v in latency(0.2, 90)],
                [("1h10m", page, [])]),
        ] if slo == "latency" else [])))
        tests.append(AlertTests(ticket, [
            Case(f"{slo}: burning {small}x over 1d and 2h opens a ticket", slow_burn, [
                ("2h10m", ticket, [(labels("warning"), f"{SVC}: {slo} SLO error budget burning {small}x")])]),
            Case(f"{slo}: within budget stays silent", quiet, [("2h10m", ticket, [])]),
        ]))
    return _with_browser_error_tests(tests + datastore_tests(p), p)


# =========================================================================== datastores and cost
# (monitoring-signals block: the alerts of catalogue.datastore_alerts and the recording rules of
# catalogue.cost_recordings.)

POSTGRES_EXPORTER = {"job": "postgres-exporter", "instance": "127.0.0.1:9187", "service": "postgres"}
REDIS_EXPORTER = {"job": "redis-exporter", "instance": "127.0.0.1:9121", "service": "redis"}


def datastore_tests(p: Profile) -> list[AlertTests]:
    t = Timeline(p)
    activity = lambda state, **kw: sel("pg_stat_activity_count", POSTGRES_EXPORTER, datname=PRODUCT.slug,
                                       server="127.0.0.1:5432", state=state, **kw)
    max_conn = lambda **kw: sel("pg_settings_max_connections", POSTGRES_EXPORTER, server="127.0.0.1:5432", **kw)
    used = lambda **kw: sel("redis_memory_used_bytes", REDIS_EXPORTER, **kw)
    limit = lambda **kw: sel("redis_memory_max_bytes", REDIS_EXPORTER, **kw)
    evicted = lambda **kw: sel("redis_evicted_keys_total", REDIS_EXPORTER, **kw)
    pg_warn = {"service": "postgres", "instance": "127.0.0.1:9187", "severity": "warning"}
    redis_warn = {"service": "redis", "instance": "127.0.0.1:9121", "severity": "warning"}
    other = {"instance": "127.0.0.1:19187"}
    return [
        AlertTests("PostgresConnectionsNearLimit", [
            Case("85 of 100 server connections (several databases and states summed) fires", [
                (activity("active"), t.gauge((50, 15))),
                (activity("idle"), t.gauge((30, 15))),
                (sel("pg_stat_activity_count", POSTGRES_EXPORTER, datname="postgres", server="127.0.0.1:5432",
                     state="idle"), t.gauge((5, 15))),
                (max_conn(), t.gauge((100, 15))),
            ], [("10m", "PostgresConnectionsNearLimit",
                 [(pg_warn, "postgres (127.0.0.1:9187): 85% of max_connections in use")])]),
            Case("30 of 100, and a short spike to 90 (under `for`), stay silent", [
                (activity("active"), t.gauge((30, 15))),
                (max_conn(), t.gauge((100, 15))),
                (activity("active", **other), t.gauge((10, 5), (90, 2), (10, 8))),
                (max_conn(**other), t.gauge((100, 15))),
            ], [("10m", "PostgresConnectionsNearLimit", [])]),
        ]),
        AlertTests("RedisMemoryNearLimit", [
            Case("95% of maxmemory fires", [
                (used(), t.gauge((95e6, 15))), (limit(), t.gauge((100e6, 15))),
            ], [("10m", "RedisMemoryNearLimit",
                 [(redis_warn, "redis (127.0.0.1:9121): 95% of maxmemory used")])]),
            Case("no maxmemory set (0) and half of maxmemory stay silent", [
                (used(), t.gauge((5e9, 15))), (limit(), t.gauge((0, 15))),
                (used(**{"instance": "127.0.0.1:19121"}), t.gauge((50e6, 15))),
                (limit(**{"instance": "127.0.0.1:19121"}), t.gauge((100e6, 15))),
            ], [("10m", "RedisMemoryNearLimit", [])]),
        ]),
        AlertTests("RedisEvictingKeys", [
            Case("2 evictions/s for 10 minutes fires", [(evicted(), t.counter((0, 5), (2, 15)))],
                 [("17m", "RedisEvictingKeys", [(redis_warn, "redis (127.0.0.1:9121): evicting 2.00 keys/s")])]),
            Case("no evictions, and evictions long over, stay silent", [
                (evicted(), t.counter((0, 20))),
                (evicted(**{"instance": "127.0.0.1:19121"}), t.counter((2, 3), (0, 17))),
            ], [("17m", "RedisEvictingKeys", [])]),
        ]),
    ]


def cost_expr_tests(p: Profile) -> list[dict]:
    """promql_expr_test cases of the cost recording rules, rendered as one promtool test file."""
    t = Timeline(p)
    month = MONTH_SECONDS
    requests = lambda route, **kw: sel("http_requests_total", BACKEND, method="GET", route=route,
                                       status_code="200", **kw)
    rate = lambda kind, value: (sel("sentry_sample_rate", BACKEND, kind=kind), t.gauge((value, 121)))
    traffic = [
        (requests("/api/projects"), t.counter((8, 121))),
        (requests("/api/projects/{project_id}"), t.counter((2, 121))),
        (requests("/health"), t.counter((5, 121))),  # never traced: not a transaction
        (requests("/api/rum/vitals"), t.counter((3, 121))),
        rate("traces", 0.1), rate("errors", 1.0),
        (sel("prometheus_tsdb_head_series", PROMETHEUS), t.gauge((12345, 121))),
        (sel("prometheus_tsdb_head_samples_appended_total", PROMETHEUS), t.counter((800, 121))),
    ]
    exceptions = (sel("http_unhandled_exceptions_total", BACKEND, exception_type="KeyError", route="/api/projects"),
                  t.counter((0.25, 121)))
    b = {"service": SVC}
    prom = {"job": "prometheus", "instance": PROMETHEUS["instance"]}

    def expect(expr: str, value: float, labels: dict) -> dict:
        return {"expr": expr, "eval_time": p.d("2h"), "exp_samples": [{"labels": _labels(expr, labels), "value": value}]}

    return [
        {"name": "Sentry volume and cost at 10 req/s traced at 10%, 0.25 errors/s; Prometheus' own size",
         "interval": t.interval,
         "input_series": [{"series": s, "values": v} for s, v in [*traffic, exceptions]],
         "promql_expr_test": [
             expect("cost:sentry_transactions:per_month", round(10 * 0.1 * month, 6), b),
             expect('cost:sentry_usd:per_month{item="transactions"}', round(10 * 0.1 * month * PRICES.sentry_transaction_usd, 6),
                    {**b, "item": "transactions"}),
             expect("cost:sentry_errors:per_month", round(0.25 * month, 6), b),
             expect('cost:sentry_usd:per_month{item="errors"}', round(0.25 * month * PRICES.sentry_error_usd, 6),
                    {**b, "item": "errors"}),
             expect("cost:prometheus_usd:per_month", PRICES.prometheus_monthly_usd, {}),
             expect("prometheus:active_series", 12345, prom),
             expect("prometheus:samples_appended:rate5m", 800, prom),
         ]},
        {"name": "no exceptions: 0 errors and $0 (not absent); sample rate 1 costs ten times more",
         "interval": t.interval,
         "input_series": [{"series": s, "values": v} for s, v in traffic if "sentry_sample_rate" not in s]
                         + [{"series": s, "values": v} for s, v in (rate("traces", 1.0), rate("errors", 1.0))],
         "promql_expr_test": [
             expect("cost:sentry_errors:per_month", 0, b),
             expect('cost:sentry_usd:per_month{item="transactions"}', round(10 * 1.0 * month * PRICES.sentry_transaction_usd, 6),
                    {**b, "item": "transactions"}),
         ]},
    ]


def _labels(expr: str, labels: dict) -> str:
    """The exp_samples label set of a recorded series: its name and labels."""
    name = expr.split("{", 1)[0]
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}" if inner else name


# --------------------------------------------------------------------------- browser errors
# (issue 15 item 5) Cases for catalogue.browser_error_recordings/browser_error_alerts: the browser's
# errors (counted by the backend, so with the backend's scrape labels) fire ErrorBurst and ErrorStorm
# as service="frontend", and NewBrowserErrorType.

def browser_error_tests(p: Profile) -> list[AlertTests]:
    t = Timeline(p)
    d = p.d
    err = lambda typ, page="/pricing": sel("browser_errors_total", BACKEND, error_type=typ, page=page)
    exc = sel("http_unhandled_exceptions_total", BACKEND, exception_type="KeyError", route="/api/projects")
    lowest_ts = sel("prometheus_tsdb_lowest_timestamp_seconds", PROMETHEUS)
    warn_f = {"service": "frontend", "severity": "warning"}
    crit_f = {"service": "frontend", "severity": "critical"}
    return [
        AlertTests("ErrorBurst", [
            Case("browser: 12 errors of a new type on two pages fire as the frontend, apart from the backend", [
                (err("InjectedClientCrash", "/pricing"), t.born(10, 7, 0, 10)),
                (err("InjectedClientCrash", "/signup"), t.born(10, 5, 0, 10)),
                (exc, t.gauge((1, 20))),
            ], [("11m", "ErrorBurst", [(warn_f, f"frontend: 12 unhandled exceptions in {d('5m')}")]),
                ("17m", "ErrorBurst", [])]),
            Case("browser: 2 errors per minute stay silent", [(err("TypeError"), t.counts(2, 20))],
                 [("15m", "ErrorBurst", [])]),
        ]),
        AlertTests("ErrorStorm", [
            Case("browser: 150 errors in the window page as the frontend", [(err("TypeError"), t.born(10, 150, 0, 10))],
                 [("11m", "ErrorStorm", [(crit_f, f"frontend: 150 unhandled exceptions in {d('5m')}")])]),
            Case("browser: 50 errors stay silent", [(err("TypeError"), t.born(10, 50, 0, 10))],
                 [("11m", "ErrorStorm", [])]),
        ]),
        AlertTests("NewBrowserErrorType", [
            Case("a browser error type never seen before fires, a known one does not", [
                (lowest_ts, t.gauge((0, 30))),
                (err("TypeError"), t.gauge((1, 30))),
                (err("ChunkLoadError"), t.born(10, 1, 0, 20)),
            ], [("11m", "NewBrowserErrorType", [({**warn_f, "error_type": "ChunkLoadError"},
                                                 "frontend: new browser error type ChunkLoadError")]),
                ("17m", "NewBrowserErrorType", [])]),
            Case("a known type on a new page is not a new type", [
                (lowest_ts, t.gauge((0, 30))),
                (err("TypeError", "/pricing"), t.gauge((1, 30))),
                (err("TypeError", "/signup"), t.born(10, 1, 0, 20)),
            ], [("11m", "NewBrowserErrorType", [])]),
            Case("a fresh Prometheus (less history than the window) stays silent", [
                (lowest_ts, t.gauge((p.seconds(500), 30))),
                (err("ChunkLoadError"), t.born(10, 1, 0, 20)),
            ], [("11m", "NewBrowserErrorType", [])]),
        ]),
    ]


def _with_browser_error_tests(tests: list[AlertTests], p: Profile) -> list[AlertTests]:
    """Browser cases join the alert's existing test file (one file per alert)."""
    by_alert = {group.alert: group for group in tests}
    for extra in browser_error_tests(p):
        if extra.alert in by_alert:
            by_alert[extra.alert].cases.extend(extra.cases)
        else:
            tests.append(extra)
    return tests
