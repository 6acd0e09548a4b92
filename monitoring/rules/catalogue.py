"""The alert and recording rules, written once as functions of a Profile.

Every duration goes through `p.d(...)` (production value in, profile value out), so the
production and fast rule files are generated from this one definition and cannot drift.
Every alert carries `severity` and `service` labels and `summary` (with the value),
`description` and `runbook_url` annotations.

Guards against alerts in a healthy, idle or low-traffic system:
- ratios are only alerted on together with a minimum absolute rate (MIN_RPS / MIN_ERROR_RPS),
  so one failing request out of three never pages;
- latency alerts need MIN_RPS of traffic and a floor on the latency itself;
- counters that appear at their first increment (exception types, new status codes) are
  handled by series existence (`x unless x offset W`) because increase()/rate() miss the first
  increment of a new series.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.product import PRODUCT
from monitoring.profiles import Profile

RUNBOOK_BASE_URL = PRODUCT.runbook_base_url

# Minimum traffic before ratio alerts may fire (per second; independent of the profile).
MIN_RPS = 0.1
MIN_ERROR_RPS = 0.1
ERROR_RATIO_THRESHOLD = 0.05
SLOW_P95_SECONDS = 2
REGRESSION_FACTOR = 1.2
REGRESSION_FLOOR_SECONDS = 0.1
POOL_UTILISATION_THRESHOLD = 0.8
ERROR_BURST_COUNT = 10
ERROR_STORM_COUNT = 100
OUTBOX_AGE_SECONDS = 300  # a duration threshold: scaled by the profile
OUTBOX_DEPTH = 5000
CACHE_ERROR_RATIO = 0.25
BILLING_FAILURE_RATIO = 0.25
REQUIRED_JOBS = {"backend": PRODUCT.service, "nextjs": "frontend"}  # job -> service

# SLOs (backend): availability = non-5xx responses; latency = responses faster than 1s.
SLO_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
# The objectives are the product's (product.toml [slo]): 99.5% moves every burn-rate threshold.
SLO_OBJECTIVES = {"availability": PRODUCT.availability_objective, "latency": PRODUCT.latency_objective}
LATENCY_SLO_BUCKET = "1|1.0"  # prometheus_client renders le="1.0"; other clients le="1"
# Sign-up and login hash passwords with argon2 on purpose (0.3-1.7 s on a busy 2-core box): they
# are not part of the latency SLO, or a burst of sign-ups pages someone (found by the load harness).
LATENCY_SLO_ROUTES = 'route!~"/api/auth/.*"'
# (burn-rate factor, long window, short window) as in the SRE workbook and slok/sloth output.
PAGE_BURNS = [(14.4, "1h", "5m"), (6, "6h", "30m")]
TICKET_BURNS = [(3, "1d", "2h"), (1, "3d", "6h")]


@dataclass
class Record:
    record: str
    expr: str
    labels: dict[str, str] = field(default_factory=dict)

    def to_yaml(self) -> dict:
        out: dict = {"record": self.record, "expr": _clean(self.expr)}
        if self.labels:
            out["labels"] = dict(self.labels)
        return out


@dataclass
class Alert:
    alert: str
    expr: str
    for_: str
    severity: str
    summary: str
    description: str
    labels: dict[str, str] = field(default_factory=dict)

    def to_yaml(self, runbook_base: str) -> dict:
        out: dict = {"alert": self.alert, "expr": _clean(self.expr)}
        if self.for_ not in ("0s", "0"):
            out["for"] = self.for_
        out["labels"] = {"severity": self.severity, **self.labels}
        out["annotations"] = {
            "summary": self.summary,
            "description": self.description,
            "runbook_url": runbook_url(self.alert, runbook_base),
        }
        return out


def runbook_url(alert: str, base: str = RUNBOOK_BASE_URL) -> str:
    return f"{base.rstrip('/')}/{alert}.md"


def _clean(expr: str) -> str:
    lines = [line.rstrip() for line in expr.strip("\n").splitlines()]
    indent = min(len(l) - len(l.lstrip()) for l in lines if l.strip())
    return "\n".join(l[indent:] for l in lines)


def new_series_increase(selector: str, window: str) -> str:
    """increase() that also counts series born inside the window.

    increase(x[w]) needs two samples of a series, so a counter that first appears with value
    N (prometheus_client creates a labelled child at its first inc()) loses those N. A series
    absent `window` ago was born inside the window: its whole current value is the increase.
    """
    return (f"(({selector} unless {selector} offset {window})\n"
            f"  or increase({selector}[{window}]))")


# --------------------------------------------------------------------------- recording rules

def service_recordings(p: Profile) -> list[Record]:
    w5, w1h = p.d("5m"), p.d("1h")
    return [
        Record("service:http_requests:rate5m", f"""
            sum by (service) (rate(http_requests_total[{w5}]))
            or sum by (service) (rate(nextjs_requests_total[{w5}]))
        """),
        Record("service:http_requests:rate1h", f"""
            sum by (service) (rate(http_requests_total[{w1h}]))
            or sum by (service) (rate(nextjs_requests_total[{w1h}]))
        """),
        # 0 (not absent) when a service has traffic but no 5xx at all, so dashboards show 0.
        Record("service:http_requests_errors:rate5m", f"""
            sum by (service) (rate(http_requests_total{{status_code=~"5.."}}[{w5}]))
            or sum by (service) (rate(nextjs_requests_total{{status_code=~"5.."}}[{w5}]))
            or 0 * service:http_requests:rate5m
        """),
        Record("service:http_requests_error:ratio_rate5m", """
            service:http_requests_errors:rate5m / service:http_requests:rate5m
        """),
        *[
            Record(f"service:http_request_duration_seconds:p{int(q * 100)}_rate5m", f"""
                histogram_quantile({q}, sum by (service, le) (rate(http_request_duration_seconds_bucket[{w5}])))
            """)
            for q in (0.5, 0.95, 0.99)
        ],
        Record("service:http_unhandled_exceptions:increase5m", f"""
            sum by (service) (
              {new_series_increase("http_unhandled_exceptions_total", w5)}
            )
        """),
        Record("service:db_pool:utilisation_ratio", """
            sum by (service) (db_pool_checked_out)
            / (sum by (service) (db_pool_size + db_pool_max_overflow) > 0)
        """),
    ]


def _sli_error_expr(slo: str, window: str) -> str:
    if slo == "availability":
        return f"""
            (
              sum by (service) (rate(http_requests_total{{job="backend",status_code=~"5.."}}[{window}]))
              or 0 * sum by (service) (rate(http_requests_total{{job="backend"}}[{window}]))
            )
            / sum by (service) (rate(http_requests_total{{job="backend"}}[{window}]))
        """
    return f"""
        1 - (
          sum by (service) (rate(http_request_duration_seconds_bucket{{job="backend",{LATENCY_SLO_ROUTES},le=~"{LATENCY_SLO_BUCKET}"}}[{window}]))
          / sum by (service) (rate(http_request_duration_seconds_count{{job="backend",{LATENCY_SLO_ROUTES}}}[{window}]))
        )
    """


def slo_recordings(p: Profile) -> list[Record]:
    out = []
    for slo, objective in SLO_OBJECTIVES.items():
        for window in SLO_WINDOWS:
            # The recorded name keeps the production window (see monitoring/profiles.py).
            out.append(Record(f"slo:sli_error:ratio_rate{window}", _sli_error_expr(slo, p.d(window)),
                              {"slo": slo}))
        out.append(Record("slo:objective:ratio", f"vector({objective})",
                          {"service": PRODUCT.service, "slo": slo}))
        out.append(Record("slo:error_budget:ratio", f"vector({round(1 - objective, 6)})",
                          {"service": PRODUCT.service, "slo": slo}))
    return out


# --------------------------------------------------------------------------- alerts

def application_alerts(p: Profile) -> list[Alert]:
    w5 = p.d("5m")
    return [
        Alert(
            "HighErrorRate",
            f"""
            service:http_requests_error:ratio_rate5m > {ERROR_RATIO_THRESHOLD}
            and on (service) service:http_requests_errors:rate5m > {MIN_ERROR_RPS}
            """,
            p.d("5m"), "critical",
            "{{ $labels.service }}: {{ $value | humanizePercentage }} of requests fail with 5xx",
            f"More than {ERROR_RATIO_THRESHOLD:.0%} of {{{{ $labels.service }}}} responses were 5xx over "
            f"the last {w5} (and more than {MIN_ERROR_RPS} errors/s), for {p.d('5m')}.",
        ),
        Alert(
            "SlowAPI",
            f"""
            service:http_request_duration_seconds:p95_rate5m > {SLOW_P95_SECONDS}
            and on (service) service:http_requests:rate5m > {MIN_RPS}
            """,
            p.d("5m"), "warning",
            "{{ $labels.service }}: p95 latency is {{ $value | humanizeDuration }}",
            f"The 95th percentile of request duration over {w5}, across all routes and workers, "
            f"has been above {SLOW_P95_SECONDS}s for {p.d('5m')}.",
        ),
        Alert(
            "LatencyRegression",
            f"""
            service:http_request_duration_seconds:p95_rate5m
              > {REGRESSION_FACTOR} * (service:http_request_duration_seconds:p95_rate5m offset {p.d("1d")})
            and on (service) service:http_request_duration_seconds:p95_rate5m > {REGRESSION_FLOOR_SECONDS}
            and on (service) service:http_requests:rate5m > {MIN_RPS}
            """,
            p.d("15m"), "warning",
            "{{ $labels.service }}: p95 latency {{ $value | humanizeDuration }} is more than "
            f"{round((REGRESSION_FACTOR - 1) * 100)}% above the same time {p.d('1d')} ago",
            f"p95 over {w5} is more than {REGRESSION_FACTOR}x the p95 of the same window "
            f"{p.d('1d')} earlier (and above {REGRESSION_FLOOR_SECONDS}s), for {p.d('15m')}.",
        ),
        Alert(
            "DatabaseConnectionsHigh",
            f"service:db_pool:utilisation_ratio > {POOL_UTILISATION_THRESHOLD}",
            p.d("5m"), "warning",
            "{{ $labels.service }}: DB pool {{ $value | humanizePercentage }} used",
            "Checked-out connections / (pool size + max overflow), summed over all workers, "
            f"has been above {POOL_UTILISATION_THRESHOLD:.0%} for {p.d('5m')}. Requests will soon "
            "wait for connections and time out.",
        ),
        Alert(
            "ErrorBurst",
            f"service:http_unhandled_exceptions:increase5m > {ERROR_BURST_COUNT}",
            p.d("1m"), "warning",
            "{{ $labels.service }}: {{ $value | printf \"%.0f\" }} unhandled exceptions in "
            f"{w5}",
            f"More than {ERROR_BURST_COUNT} unhandled exceptions in {w5} "
            "(http_unhandled_exceptions_total; new exception types counted from their first "
            "occurrence). Check Sentry for the stack traces.",
        ),
        Alert(
            "ErrorStorm",
            f"service:http_unhandled_exceptions:increase5m > {ERROR_STORM_COUNT}",
            p.d("1m"), "critical",
            "{{ $labels.service }}: {{ $value | printf \"%.0f\" }} unhandled exceptions in "
            f"{w5}",
            f"More than {ERROR_STORM_COUNT} unhandled exceptions in {w5}: page the on-call.",
        ),
        Alert(
            "NewErrorType",
            f"""
            (sum by (service, exception_type) (http_unhandled_exceptions_total) > 0)
            unless on (service, exception_type)
              (max by (service, exception_type) (max_over_time(http_unhandled_exceptions_total[{p.d("1d")}] offset {w5})) > 0)
            and on () (time() - min(prometheus_tsdb_lowest_timestamp_seconds)) > {p.seconds(300)}
            """,
            "0s", "warning",
            "{{ $labels.service }}: new exception type {{ $labels.exception_type }}",
            f"{{{{ $labels.exception_type }}}} was raised and had not been "
            f"seen in the {p.d('1d')} before the last {w5}. Only evaluated once Prometheus holds "
            f"more than {w5} of history, so a fresh Prometheus does not report every known type.",
        ),
        Alert(
            "AnalyticsBacklog",
            f"""
            label_replace(max by (service) (analytics_outbox_oldest_age_seconds) > {p.seconds(OUTBOX_AGE_SECONDS)}, "reason", "oldest_event_age_seconds", "", "")
            or label_replace(max by (service) (analytics_outbox_depth) > {OUTBOX_DEPTH}, "reason", "depth", "", "")
            """,
            p.d("10m"), "warning",
            "{{ $labels.service }}: analytics outbox {{ $labels.reason }} is {{ $value }}",
            f"Business events are not leaving the outbox: oldest event older than "
            f"{p.seconds(OUTBOX_AGE_SECONDS)}s or more than {OUTBOX_DEPTH} queued, for {p.d('10m')}. "
            "Events are kept (nothing is lost) but Mixpanel is behind.",
        ),
        Alert(
            "CacheErrorsHigh",
            f"""
            sum by (service) (rate(cache_requests_total{{result="error"}}[{w5}]))
              / sum by (service) (rate(cache_requests_total[{w5}])) > {CACHE_ERROR_RATIO}
            and on (service) sum by (service) (rate(cache_requests_total{{result="error"}}[{w5}])) > {MIN_ERROR_RPS}
            """,
            p.d("5m"), "warning",
            "{{ $labels.service }}: {{ $value | humanizePercentage }} of cache requests fail",
            f"More than {CACHE_ERROR_RATIO:.0%} of Redis cache operations errored over {w5} for "
            f"{p.d('5m')}. The API keeps serving from PostgreSQL (degraded, slower).",
        ),
        Alert(
            "BillingProviderFailing",
            f"""
            sum by (service) ({new_series_increase('billing_provider_requests_total{outcome!="ok"}', w5)})
              / sum by (service) ({new_series_increase('billing_provider_requests_total', w5)})
              > {BILLING_FAILURE_RATIO}
            and on (service) sum by (service) ({new_series_increase('billing_provider_requests_total{outcome!="ok"}', w5)}) >= 3
            """,
            p.d("5m"), "warning",
            "{{ $labels.service }}: {{ $value | humanizePercentage }} of payment provider calls fail",
            f"More than {BILLING_FAILURE_RATIO:.0%} (and at least 3) of the calls to the payment "
            f"provider in {w5} errored or timed out, for {p.d('5m')}. Upgrades return 502/504.",
        ),
    ]


def scrape_alerts(p: Profile) -> list[Alert]:
    missing = "\nor ".join(
        f'label_replace(absent(up{{job="{job}"}}), "service", "{service}", "", "")'
        for job, service in REQUIRED_JOBS.items()
    )
    return [
        Alert(
            # every target of the job down (a job of several instances, the HA topology's
            # backends, is down only when none answers; BackendInstanceDown warns about one)
            "ServiceDown", "up == 0 unless on (job, service) (up == 1)", p.d("1m"), "critical",
            "{{ $labels.service }} ({{ $labels.job }} at {{ $labels.instance }}) is down",
            f"Prometheus could not scrape {{{{ $labels.instance }}}} for {p.d('1m')}.",
        ),
        Alert(
            "TargetScrapeFailing",
            f"changes(up[{p.d('10m')}]) >= 4",
            p.d("5m"), "warning",
            "{{ $labels.job }} at {{ $labels.instance }}: {{ $value }} up/down changes",
            f"The target's scrapes keep failing intermittently: `up` changed at least 4 times in "
            f"{p.d('10m')} (timeouts, crash loops, flapping), for {p.d('5m')}. A single outage, "
            "however long, does not fire this (ServiceDown covers it).",
        ),
        Alert(
            "TargetMissing", missing, p.d("10m"), "warning",
            "{{ $labels.service }}: no {{ $labels.job }} target in Prometheus",
            "Prometheus has no target for a required job: the scrape config or service discovery "
            "lost it. We are blind to this service.",
        ),
        Alert(
            "BackendMetricsMissing",
            'up{job="backend"} == 1 unless on (job, instance) app_info',
            p.d("5m"), "warning",
            "{{ $labels.service }}: scrape succeeds but application metrics are missing",
            "The metrics port answers but app_info (always present when the multiprocess registry "
            "works) is missing: PROMETHEUS_MULTIPROC_DIR or the collector is broken.",
        ),
    ]


def slo_alerts(p: Profile) -> list[Alert]:
    out = []
    guard = f"and on (service) service:http_requests:rate1h > {MIN_RPS}"
    for slo, objective in SLO_OBJECTIVES.items():
        budget = round(1 - objective, 6)
        for kind, burns, severity in (("Page", PAGE_BURNS, "critical"), ("Ticket", TICKET_BURNS, "warning")):
            arms = []
            for factor, long, short in burns:
                sel = f'{{slo="{slo}"}}'
                arms.append(
                    f"(\n  slo:sli_error:ratio_rate{short}{sel} / {budget} > {factor}\n"
                    f"  and on (service, slo) slo:sli_error:ratio_rate{long}{sel} / {budget} > {factor}\n)"
                )
            pairs = ", ".join(f"{f}x over {p.d(l)} and {p.d(s)}" for f, l, s in burns)
            out.append(Alert(
                f"{slo.capitalize()}BudgetBurn{kind}",
                "(\n" + "\nor\n".join(arms) + "\n)\n" + guard,
                "0s", severity,
                f"{{{{ $labels.service }}}}: {slo} SLO error budget burning {{{{ $value | printf \"%.1f\" }}}}x",
                f"The {slo} SLO ({objective * 100:g}%) is burning its error budget at one of: {pairs} "
                f"(multi-window, multi-burn-rate). {'Page: budget gone in days.' if kind == 'Page' else 'Ticket: slow burn.'}",
                {"slo": slo},
            ))
    return out


# --- the HA topology (issue 12): one of several backend instances lost ------------------------------

def instance_alerts(p: Profile) -> list[Alert]:
    return [
        Alert(
            "BackendInstanceDown",
            'up{job="backend"} == 0 and on (job, service) (up{job="backend"} == 1)',
            p.d("1m"), "warning",
            "{{ $labels.service }}: instance {{ $labels.instance }} is down, the others serve",
            f"Prometheus could not scrape backend instance {{{{ $labels.instance }}}} for {p.d('1m')} while "
            "at least one other instance answers: the balancer has taken it out of rotation and the "
            "remaining instances carry its traffic. Not a page while the SLOs hold (they page on their "
            "own); ServiceDown pages when no instance answers.",
        ),
    ]


# =========================================================================== datastores and cost
# (monitoring-signals block: PostgreSQL and Redis seen from the server side, and what the
# observability itself costs. The exporters run in every topology: infra/local/services.py.)

POSTGRES_CONNECTIONS_RATIO = 0.8
REDIS_MEMORY_RATIO = 0.9
MONTH_SECONDS = 30 * 86400


@dataclass(frozen=True)
class UnitPrices:
    """What the observability costs, in USD. Defaults are the seed's: Sentry $0.00025 per
    transaction; errors at the seed's 100k-errors plan ($80 / 100,000 = $0.0008 each); a
    self-hosted Prometheus + Grafana at $150 a month (EC2 t3.medium). A team sets its own
    contract's prices here and regenerates (`make generate-monitoring`)."""

    sentry_transaction_usd: float = 0.00025
    sentry_error_usd: float = 0.0008
    prometheus_monthly_usd: float = 150.0


PRICES = UnitPrices()
# Requests sentry-sdk never traces (app/core/sentry.py UNSAMPLED_PATHS): not a transaction.
UNTRACED_ROUTES = 'route!~"/health|/ready|/metrics|/api/rum/vitals"'


def datastore_alerts(p: Profile) -> list[Alert]:
    w5 = p.d("5m")
    return [
        Alert(
            "PostgresConnectionsNearLimit",
            f"""
            sum by (service, instance) (pg_stat_activity_count)
              / on (service, instance) max by (service, instance) (pg_settings_max_connections)
              > {POSTGRES_CONNECTIONS_RATIO}
            """,
            p.d("5m"), "warning",
            "{{ $labels.service }} ({{ $labels.instance }}): {{ $value | humanizePercentage }} of max_connections in use",
            f"Server-side connections (pg_stat_activity, every client of the server) have been above "
            f"{POSTGRES_CONNECTIONS_RATIO:.0%} of max_connections for {p.d('5m')}. Each backend instance "
            "may open workers x (DB_POOL_SIZE + DB_MAX_OVERFLOW): a new replica or a scale-up can exhaust "
            "the server although every pool looks fine (DatabaseConnectionsHigh is per pool).",
        ),
        Alert(
            "RedisMemoryNearLimit",
            f"""
            max by (service, instance) (redis_memory_used_bytes)
              / max by (service, instance) (redis_memory_max_bytes > 0)
              > {REDIS_MEMORY_RATIO}
            """,
            p.d("5m"), "warning",
            "{{ $labels.service }} ({{ $labels.instance }}): {{ $value | humanizePercentage }} of maxmemory used",
            f"Redis has used more than {REDIS_MEMORY_RATIO:.0%} of its maxmemory for {p.d('5m')} (only "
            "evaluated when maxmemory is set). At the limit Redis evicts keys (sessions, rate-limit "
            "counters, cache) or, with noeviction, refuses writes.",
        ),
        Alert(
            "RedisEvictingKeys",
            f"sum by (service, instance) (rate(redis_evicted_keys_total[{w5}])) > 0",
            p.d("5m"), "warning",
            "{{ $labels.service }} ({{ $labels.instance }}): evicting {{ $value | printf \"%.2f\" }} keys/s",
            f"Redis has been evicting keys at maxmemory for {p.d('5m')}: cached projects are recomputed, "
            "and sessions and rate-limit counters stored there are lost early.",
        ),
    ]


def cost_recordings(p: Profile, prices: UnitPrices = PRICES) -> list[Record]:
    """Monthly volume and cost at the current traffic (1h rate) and sample rates, and what
    Prometheus itself holds. The sample rates are the backend's rates in force
    (sentry_sample_rate{kind}, app/core/metrics.py: the settings, the traces rate lowered by the
    backend's trace budget in a spike)."""
    w1h, w5 = p.d("1h"), p.d("5m")
    requests = f'sum by (service) (rate(http_requests_total{{job="backend",{UNTRACED_ROUTES}}}[{w1h}]))'
    return [
        Record("cost:unit_price_usd", f"vector({prices.sentry_transaction_usd})", {"item": "sentry_transaction"}),
        Record("cost:unit_price_usd", f"vector({prices.sentry_error_usd})", {"item": "sentry_error"}),
        Record("cost:prometheus_usd:per_month", f"vector({prices.prometheus_monthly_usd})"),
        Record("cost:sentry_transactions:per_month", f"""
            {requests}
            * on (service) max by (service) (sentry_sample_rate{{kind="traces"}})
            * {MONTH_SECONDS}
        """),
        # 0, not absent, when the service has traffic but raises nothing.
        Record("cost:sentry_errors:per_month", f"""
            (
              sum by (service) (rate(http_unhandled_exceptions_total{{job="backend"}}[{w1h}]))
              or 0 * {requests}
            )
            * on (service) max by (service) (sentry_sample_rate{{kind="errors"}})
            * {MONTH_SECONDS}
        """),
        Record("cost:sentry_usd:per_month", """
            cost:sentry_transactions:per_month * on () group_left cost:unit_price_usd{item="sentry_transaction"}
        """, {"item": "transactions"}),
        Record("cost:sentry_usd:per_month", """
            cost:sentry_errors:per_month * on () group_left cost:unit_price_usd{item="sentry_error"}
        """, {"item": "errors"}),
        Record("prometheus:active_series", 'sum by (job, instance) (prometheus_tsdb_head_series{job="prometheus"})'),
        Record("prometheus:samples_appended:rate5m",
               f'sum by (job, instance) (rate(prometheus_tsdb_head_samples_appended_total{{job="prometheus"}}[{w5}]))'),
    ]


# --------------------------------------------------------------------------- browser errors
# (issue 15 item 5) Uncaught browser errors reach the backend's RUM endpoint (app/rum), which counts
# them as browser_errors_total{error_type, page} with both labels from allow-lists. The browser is
# its own service: its errors join ErrorBurst/ErrorStorm through a second recording of
# service:http_unhandled_exceptions:increase5m with service="frontend" (the backend's recording
# above is untouched; the two never share a label set), and NewBrowserErrorType is NewErrorType for
# browser error types (routed to Slack #engineering like it).

def browser_error_recordings(p: Profile) -> list[Record]:
    w5 = p.d("5m")
    return [
        Record("service:http_unhandled_exceptions:increase5m", f"""
            label_replace(
              sum({new_series_increase("browser_errors_total", w5)}),
              "service", "frontend", "", ""
            )
        """),
    ]


def browser_error_alerts(p: Profile) -> list[Alert]:
    w5 = p.d("5m")
    return [
        Alert(
            "NewBrowserErrorType",
            f"""
            (sum by (error_type) (browser_errors_total) > 0)
            unless on (error_type)
              (max by (error_type) (max_over_time(browser_errors_total[{p.d("1d")}] offset {w5})) > 0)
            and on () (time() - min(prometheus_tsdb_lowest_timestamp_seconds)) > {p.seconds(300)}
            """,
            "0s", "warning",
            "frontend: new browser error type {{ $labels.error_type }}",
            f"Browsers reported {{{{ $labels.error_type }}}} (an uncaught error, counted through "
            f"/api/rum/errors) and it had not been seen in the {p.d('1d')} before the last {w5}. "
            f"Only evaluated once Prometheus holds more than {w5} of history.",
            {"service": "frontend"},
        ),
    ]


def all_alerts(p: Profile) -> list[Alert]:
    return (application_alerts(p) + scrape_alerts(p) + slo_alerts(p) + datastore_alerts(p) + browser_error_alerts(p)
            + instance_alerts(p))


RULE_FILE = "app.rules.yml"


def rule_groups(p: Profile, runbook_base: str = RUNBOOK_BASE_URL) -> dict[str, dict]:
    """File name -> rule file content for this profile.

    Recording rules sit in the same group as the alerts that read them, before them: rules of a
    group run in order, so an alert sees this evaluation's recorded value (a separate group
    would add one evaluation interval of detection delay).
    """
    interval = p.evaluation_interval
    return {RULE_FILE: {"groups": [
        {"name": f"{PRODUCT.slug}-application", "interval": interval,
         "rules": [r.to_yaml() for r in service_recordings(p)]
         + [r.to_yaml() for r in browser_error_recordings(p)]
         + [a.to_yaml(runbook_base) for a in application_alerts(p)]},
        {"name": f"{PRODUCT.slug}-scrape", "interval": interval,
         "rules": [a.to_yaml(runbook_base) for a in scrape_alerts(p) + instance_alerts(p)]},
        {"name": f"{PRODUCT.slug}-slo", "interval": interval,
         "rules": [r.to_yaml() for r in slo_recordings(p)]
         + [a.to_yaml(runbook_base) for a in slo_alerts(p)]},
        {"name": f"{PRODUCT.slug}-datastores", "interval": interval,
         "rules": [a.to_yaml(runbook_base) for a in datastore_alerts(p)]},
        {"name": f"{PRODUCT.slug}-cost", "interval": interval,
         "rules": [r.to_yaml() for r in cost_recordings(p)]},
        {"name": f"{PRODUCT.slug}-browser", "interval": interval,
         "rules": [a.to_yaml(runbook_base) for a in browser_error_alerts(p)]},
    ]}}
