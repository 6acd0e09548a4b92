"""What the dashboards show: rows and panels as data (built into JSON by build.py).

`requires_fault` names the scenario (the fault catalogue, backend/app/faults/catalogue.json) that fills a panel which is
legitimately empty in a healthy system (no 5xx, no firing alert, ...). Every other panel must
return data under light steady traffic; `monitoring.dashboards.queries` checks that live.
Queries use `$__rate_interval`; the query runner substitutes it outside Grafana.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.product import PRODUCT

RI = "$__rate_interval"
B = 'job="backend"'


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    # Grafana asks Prometheus for the exemplars of the query's histogram series (trace IDs of
    # sampled requests; Prometheus runs with --enable-feature=exemplar-storage).
    exemplar: bool = False


@dataclass(frozen=True)
class PanelSpec:
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    description: str = ""
    kind: str = "timeseries"  # or "stat"
    requires_fault: str | None = None
    width: int = 12
    threshold: float | None = None  # drawn as a dashed red line (an SLO's error budget)
    threshold_label: str = ""


@dataclass(frozen=True)
class RowSpec:
    title: str
    panels: tuple[PanelSpec, ...]


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    title: str
    description: str
    rows: tuple[RowSpec, ...] = field(default_factory=tuple)


def P(title, *queries, **kw) -> PanelSpec:
    return PanelSpec(title, tuple(q if isinstance(q, Query) else Query(*q) for q in queries), **kw)


def hq(q: float, metric: str, by: str, selector: str = "") -> str:
    return f"histogram_quantile({q}, sum by ({by}, le) (rate({metric}_bucket{selector}[{RI}])))"


APPLICATION = RowSpec("Application", (
    P("Requests per second by route", (f"sum by (route) (rate(http_requests_total{{{B}}}[{RI}]))", "{{route}}"),
      unit="reqps"),
    P("Responses by status class", (
        f'sum by (status_class) (label_replace(rate(http_requests_total{{{B}}}[{RI}]), "status_class", "${{1}}xx", "status_code", "(.).."))',
        "{{status_class}}"), unit="reqps"),
    P("5xx error ratio per service (HighErrorRate input)", ("service:http_requests_error:ratio_rate5m", "{{service}}"),
      unit="percentunit", description="Recorded rule; 0 while healthy. HighErrorRate fires above 5% (and >0.1 errors/s)."),
    P("5xx responses by route", (f'sum by (route, status_code) (rate(http_requests_total{{{B},status_code=~"5.."}}[{RI}]))',
                                 "{{route}} {{status_code}}"), unit="reqps", requires_fault="error_burst"),
    P("Latency p50 / p95 / p99", ("service:http_request_duration_seconds:p50_rate5m", "p50 {{service}}"),
      ("service:http_request_duration_seconds:p95_rate5m", "p95 {{service}}"),
      ("service:http_request_duration_seconds:p99_rate5m", "p99 {{service}}"),
      Query(f"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{B}}}[{RI}])))",
            "p99 (raw, with exemplars)", exemplar=True), unit="s",
      description="SlowAPI fires when p95 > 2s. Exemplars (dots) on the raw p99 are trace IDs of sampled requests."),
    P("p95 latency by route", Query(hq(0.95, "http_request_duration_seconds", "route", f"{{{B}}}"), "{{route}}", exemplar=True),
      unit="s", description="Exemplars: each dot is the trace ID of a sampled request in that bucket; "
                            "open it in Sentry (locally Spotlight) to see where the time went."),
    P("Requests in progress", (f"sum by (method) (http_requests_in_progress{{{B}}})", "{{method}}")),
    P("Unhandled exceptions by type", (f"sum by (exception_type) (increase(http_unhandled_exceptions_total[{RI}]))",
                                       "{{exception_type}}"), requires_fault="error_burst",
      description="ErrorBurst > 10 and ErrorStorm > 100 in 5m; NewErrorType on a type not seen for a day."),
    P("Cache hit ratio", (f'sum by (cache) (rate(cache_requests_total{{result="hit"}}[{RI}])) / sum by (cache) (rate(cache_requests_total[{RI}]))',
                          "{{cache}}"), unit="percentunit"),
    P("Cache errors", (f'sum by (cache) (rate(cache_requests_total{{result="error"}}[{RI}]))', "{{cache}}"),
      unit="reqps", requires_fault="redis_outage"),
    P("Payment provider calls by outcome", (f"sum by (outcome) (rate(billing_provider_requests_total[{RI}]))", "{{outcome}}"),
      unit="reqps"),
    P("Payment provider failures", (f'sum by (outcome) (rate(billing_provider_requests_total{{outcome!="ok"}}[{RI}]))',
                                    "{{outcome}}"), unit="reqps", requires_fault="billing_timeout"),
))

DATABASE = RowSpec("Database", (
    P("Query duration p95 by operation", (hq(0.95, "db_query_duration_seconds", "operation"), "{{operation}}"), unit="s"),
    P("Queries per second by operation", (f"sum by (operation) (rate(db_query_duration_seconds_count[{RI}]))", "{{operation}}"),
      unit="ops"),
    P("Connection pool", ("sum(db_pool_checked_out)", "checked out"), ("sum(db_pool_overflow)", "overflow"),
      ("sum(db_pool_size + db_pool_max_overflow)", "capacity"), ("sum(db_connections_active)", "active")),
    P("Pool utilisation (DatabaseConnectionsHigh input)", ("service:db_pool:utilisation_ratio", "{{service}}"),
      unit="percentunit", description="checked_out / (size + max_overflow) over all workers; alert above 80%."),
    # 0 rather than "no data" while no query is slow: the counter's series only appear at the first
    # slow query, and no fault scenario makes queries slow reliably (the load harness showed both).
    P("Slow queries (>100 ms)", (f"sum by (operation) (rate(db_slow_queries_total[{RI}]))"
                                 f" or sum by (operation) (rate(db_query_duration_seconds_count[{RI}])) * 0",
                                 "{{operation}}"), unit="ops"),
))

INFRASTRUCTURE = RowSpec("Infrastructure", (
    P("CPU usage", (f'1 - avg(rate(node_cpu_seconds_total{{mode="idle"}}[{RI}]))', "host"),
      (f'sum by (job) (rate(process_cpu_seconds_total{{{B}}}[{RI}]))', "backend (cores)"), unit="percentunit"),
    P("Memory", ("1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes", "host used"), unit="percentunit"),
    P("Backend resident memory", (f"sum by (job) (process_resident_memory_bytes{{{B}}})", "{{job}}"), unit="bytes"),
    P("Disk I/O", (f"sum by (device) (rate(node_disk_read_bytes_total[{RI}]))", "read {{device}}"),
      (f"sum by (device) (rate(node_disk_written_bytes_total[{RI}]))", "write {{device}}"), unit="Bps"),
    P("Network I/O", (f"sum by (device) (rate(node_network_receive_bytes_total[{RI}]))", "rx {{device}}"),
      (f"sum by (device) (rate(node_network_transmit_bytes_total[{RI}]))", "tx {{device}}"), unit="Bps"),
    P("Scrape targets up", ("up", "{{job}} {{instance}}"), description="ServiceDown fires on 0 for 1m."),
    P("Scrape duration", ("scrape_duration_seconds", "{{job}}"), unit="s"),
))

# (issue 15 item 6) The whole funnel: anonymous views of the funnel pages (page_views_total, counted
# by POST /api/rum/pageviews with no identifier), signups, upgrades; and feature adoption as a share
# of active workspaces (DB-derived gauges, backend/app/analytics/adoption.py).
BUSINESS_FUNNEL_AND_ADOPTION = (
    P("Funnel: page views, signups, upgrades", (f"sum by (page) (rate(page_views_total[{RI}]))", "views {{page}}"),
      (f"sum(rate(signups_total[{RI}]))", "signups"), (f"sum(rate(plan_upgrades_total[{RI}]))", "upgrades"),
      unit="ops", description="Anonymous views of /, /pricing and /signup (no user, session or cookie), then "
                              "the two business steps. Views are page loads, not unique visitors."),
    P("Visitor conversion (signups / signup-page views)",
      ('sum(increase(signups_total[$__range])) / clamp_min(sum(increase(page_views_total{page="/signup"}[$__range])), 1)',
       "conversion"), unit="percentunit", kind="stat", width=6,
      description="Step 1 of the funnel; step 2 is the upgrade conversion (upgrades / signups)."),
    P("Feature adoption (active workspaces with a project and a completed task)",
      ("max(workspaces_adopted) / clamp_min(max(workspaces_active), 1)", "adoption"),
      unit="percentunit", kind="stat", width=6,
      description="Active = the owner started a session in the last 30 days (ADOPTION_ACTIVE_DAYS); "
                  "refreshed from PostgreSQL every 30 s off the request path."),
    P("Active workspaces and adoption steps", ("max(workspaces_active)", "active"),
      ("max(workspaces_with_project)", "created a project"),
      ("max(workspaces_adopted)", "project and completed task")),
)

BUSINESS = RowSpec("Business", (
    P("Funnel events per second", (f"sum(rate(signups_total[{RI}]))", "signups"),
      (f"sum(rate(projects_created_total[{RI}]))", "projects created"),
      (f"sum(rate(tasks_completed_total[{RI}]))", "tasks completed"),
      (f"sum(rate(plan_upgrades_total[{RI}]))", "upgrades"), unit="ops"),
    P("Upgrade conversion (upgrades / signups)",
      ("sum(increase(plan_upgrades_total[$__range])) / sum(increase(signups_total[$__range]))", "conversion"),
      unit="percentunit", kind="stat", width=6),
    P("Signups in range", ("sum(increase(signups_total[$__range]))", "signups"), kind="stat", width=6),
    P("API usage by plan", (f"sum by (plan) (rate(api_usage_total[{RI}]))", "{{plan}}"), unit="reqps"),
    P("API usage by route (top 10)", (f"topk(10, sum by (route) (rate(api_usage_total[{RI}])))", "{{route}}"), unit="reqps"),
    P("Analytics outbox", ("max(analytics_outbox_depth)", "depth"), ("max(analytics_outbox_oldest_age_seconds)", "oldest age (s)"),
      description="AnalyticsBacklog fires when the oldest event is too old or the queue too deep."),
    P("Analytics delivered", (f"sum(rate(analytics_events_delivered_total[{RI}]))", "delivered"), unit="ops"),
    P("Analytics delivery failures", (f"sum(rate(analytics_delivery_failures_total[{RI}]))", "failures"),
      unit="ops", requires_fault="mixpanel_outage"),
    *BUSINESS_FUNNEL_AND_ADOPTION,
))

FRONTEND = RowSpec("Frontend", (
    *[P(f"{name} p75 by page", (hq(0.75, metric, "page"), "{{page}}"), unit=unit)
      for name, metric, unit in (("LCP", "web_vitals_lcp_seconds", "s"), ("INP", "web_vitals_inp_seconds", "s"),
                                 ("CLS", "web_vitals_cls", "short"), ("FCP", "web_vitals_fcp_seconds", "s"),
                                 ("TTFB", "web_vitals_ttfb_seconds", "s"))],
    P("Next.js requests by status", (f"sum by (status_code) (rate(nextjs_requests_total[{RI}]))", "{{status_code}}"),
      unit="reqps"),
    P("Next.js render p95 by route", (hq(0.95, "nextjs_render_duration_seconds", "route"), "{{route}}"), unit="s"),
    # (issue 15 item 5) 0 rather than "no data" while browsers report no error: the counter's series
    # only appear at the first error (the page-view beacons show the browsers are reporting at all).
    P("Browser errors by type (ErrorBurst/ErrorStorm as service=frontend, NewBrowserErrorType)",
      (f"sum by (error_type) (increase(browser_errors_total[{RI}])) or sum(increase(page_views_total[{RI}])) * 0",
       "{{error_type}}"),
      description="Uncaught browser errors and error-boundary crashes by class name (never the message), "
                  "POST /api/rum/errors. The client_crash fault (scenario e2e_client_crash) makes them."),
    P("Browser errors by page", (f"sum by (page) (increase(browser_errors_total[{RI}])) or sum(increase(page_views_total[{RI}])) * 0",
                                 "{{page}}")),
))

# --- monitoring-signals: the data stores from the server side, and what observability costs ---
DATASTORES = RowSpec("PostgreSQL and Redis (server side)", (
    P("PostgreSQL connections / max_connections (PostgresConnectionsNearLimit input)",
      ("sum by (instance) (pg_stat_activity_count) / on (instance) max by (instance) (pg_settings_max_connections)",
       "{{instance}}"), unit="percentunit",
      description="Every client of the server (prometheus-postgres-exporter); alert above 80%. Instances x workers x "
                  "(DB_POOL_SIZE + DB_MAX_OVERFLOW) must stay below max_connections."),
    P("PostgreSQL connections by state", ("sum by (state) (pg_stat_activity_count)", "{{state}}"),
      ("max(pg_settings_max_connections)", "max_connections")),
    P("Redis memory used vs maxmemory", ("max by (instance) (redis_memory_used_bytes)", "used {{instance}}"),
      ("max by (instance) (redis_memory_max_bytes)", "maxmemory {{instance}} (0 = unlimited)"), unit="bytes",
      description="RedisMemoryNearLimit fires above 90% of maxmemory (only when maxmemory is set)."),
    P("Redis evicted keys", (f"sum by (instance) (rate(redis_evicted_keys_total[{RI}]))", "{{instance}}"), unit="ops",
      description="0 while Redis is below maxmemory; RedisEvictingKeys fires on sustained evictions."),
    P("Redis connected clients", ("sum by (instance) (redis_connected_clients)", "{{instance}}")),
))

COST = RowSpec("Observability cost", (
    P("Estimated cost per month (USD)", ("sum by (item) (cost:sentry_usd:per_month)", "Sentry {{item}}"),
      ("cost:prometheus_usd:per_month", "Prometheus + Grafana (self-hosted)"), unit="currencyUSD",
      description="At the current traffic (1h rate) and sample rates, priced with monitoring/rules/catalogue.py "
                  "UnitPrices (the seed's). How to lower it: monitoring/runbooks/README.md."),
    P("Sentry transactions and errors per month (estimate)",
      ("sum(cost:sentry_transactions:per_month)", "transactions"), ("sum(cost:sentry_errors:per_month)", "errors")),
    P("Sentry sample rates (backend settings)", ("max by (kind) (sentry_sample_rate)", "{{kind}}"), unit="percentunit"),
    P("Prometheus active series", ("sum(prometheus:active_series)", "head series")),
    P("Prometheus samples appended per second", ("sum(prometheus:samples_appended:rate5m)", "samples/s"), unit="ops"),
))

ALERTS = RowSpec("Alerts", (
    P("Firing alerts", ('sum by (alertname, severity) (ALERTS{alertstate="firing"})', "{{alertname}} ({{severity}})"),
      requires_fault="error_burst", description="Empty while healthy: nothing may fire in the steady scenario."),
    P("Notifications sent by integration", (f"sum by (integration) (rate(alertmanager_notifications_total[{RI}]))",
                                            "{{integration}}"), unit="ops"),
    P("Notification failures", (f"sum by (integration) (rate(alertmanager_notifications_failed_total[{RI}]))",
                                "{{integration}}"), unit="ops"),
    P("Rule evaluation failures", (f"sum by (rule_group) (rate(prometheus_rule_evaluation_failures_total[{RI}]))",
                                   "{{rule_group}}"), unit="ops"),
    P("Alerts sent to Alertmanager", (f"sum(rate(prometheus_notifications_sent_total[{RI}]))", "sent"),
      (f"sum(rate(prometheus_notifications_errors_total[{RI}]))", "errors"), unit="ops"),
))


SLO_PERCENT = {"availability": PRODUCT.availability_percent, "latency": PRODUCT.latency_percent}


def _slo_row(slo: str) -> RowSpec:
    s = f'{{slo="{slo}"}}'
    budget = round(1 - SLO_PERCENT[slo] / 100, 6)
    return RowSpec(f"SLO: {slo}", (
        P(f"{slo} error ratio by window", *[(f"slo:sli_error:ratio_rate{w}{s}", w) for w in ("5m", "1h", "6h", "3d")],
          unit="percentunit", threshold=budget, threshold_label=f"error budget of the {SLO_PERCENT[slo]:g}% SLO",
          description=f"The dashed line is the error budget ({budget:.2%}) of the {SLO_PERCENT[slo]:g}% objective "
                      "(product.toml): a ratio above it spends the budget faster than it accrues."),
        P(f"{slo} burn rate (1x = budget exactly spent)",
          *[(f"slo:sli_error:ratio_rate{w}{s} / on (service, slo) slo:error_budget:ratio{s}", w) for w in ("5m", "1h", "6h")],
          description="Page: 14.4x over 1h and 5m, or 6x over 6h and 30m. Ticket: 3x over 1d and 2h, or 1x over 3d and 6h."),
        P(f"{slo} error budget left (3d window)",
          (f"1 - slo:sli_error:ratio_rate3d{s} / on (service, slo) slo:error_budget:ratio{s}", "budget left"),
          unit="percentunit", kind="stat", width=6),
        P(f"{slo} objective", (f"slo:objective:ratio{s}", "objective"), unit="percentunit", kind="stat", width=6),
    ))


DASHBOARDS = (
    DashboardSpec(f"{PRODUCT.slug}-overview", f"{PRODUCT.name} overview",
                  "Application, database, infrastructure, business, frontend and alerting signals.",
                  (APPLICATION, DATABASE, INFRASTRUCTURE, BUSINESS, FRONTEND, ALERTS, DATASTORES, COST)),
    DashboardSpec(f"{PRODUCT.slug}-slo", f"{PRODUCT.name} SLOs",
                  f"Availability (non-5xx, {PRODUCT.availability_percent:g}%) and latency (< 1s, "
                  f"{PRODUCT.latency_percent:g}%) SLOs of the backend, multi-window burn rates.",
                  (_slo_row("availability"), _slo_row("latency"))),
)
