"""Prometheus metrics: every metric of docs/contracts.md, and the helpers that record them.

Works in one process and under gunicorn with several workers (prometheus_client multiprocess mode:
PROMETHEUS_MULTIPROC_DIR must be set before prometheus_client is imported; gunicorn_conf.py does).
Gauges use live modes so a dead worker's values disappear. Workers write (prometheus_client's
files, plus exemplars: app/core/metrics_multiprocess_writer.py); the gunicorn master reads and
serves the merged registry on 127.0.0.1:8001 (app/core/metrics_multiprocess_reader.py);
/metrics is never served by the app.

Labels are bounded: `route` is the matched route template (or "<unmatched>"), methods outside
the standard set become "other", exception types come from our code, pages from an allow-list.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from app.core import metrics_batch, metrics_multiprocess_writer, trace_spans

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
# The request path's updates (in flight, request count and latency, API usage, cache lookups, SQL
# statement durations) are added up and written every metrics_batch.FLUSH_SECONDS in multiprocess
# mode, straight through in one process (app/core/metrics_batch.py).
batch: metrics_batch.Batch | metrics_batch.Direct = metrics_batch.Batch() if MULTIPROCESS else metrics_batch.Direct()
if MULTIPROCESS:
    import atexit

    atexit.register(batch.flush)

UNMATCHED_ROUTE = "<unmatched>"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SLOW_QUERY_SECONDS = 0.1

# --- HTTP -------------------------------------------------------------------------------------
http_requests_total = Counter(
    "http_requests_total", "HTTP requests by route template and status", ["method", "route", "status_code"]
)
http_request_duration_seconds = Histogram(
    "http_request_duration_seconds", "HTTP request latency (trace-ID exemplars on sampled requests)",
    ["method", "route"], buckets=LATENCY_BUCKETS,
)
http_requests_in_progress = Gauge(
    "http_requests_in_progress", "HTTP requests being served", ["method"], multiprocess_mode="livesum"
)
http_unhandled_exceptions_total = Counter(
    "http_unhandled_exceptions_total", "Exceptions that escaped a request handler", ["exception_type", "route"]
)
api_usage_total = Counter("api_usage_total", "API calls by route template and plan", ["route", "plan"])

# --- Database ---------------------------------------------------------------------------------
db_query_duration_seconds = Histogram(
    "db_query_duration_seconds", "SQL statement duration", ["operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
db_slow_queries_total = Counter("db_slow_queries_total", "SQL statements slower than 100 ms", ["operation"])
db_pool_size = Gauge("db_pool_size", "Configured pool size (summed over workers)", multiprocess_mode="livesum")
db_pool_max_overflow = Gauge("db_pool_max_overflow", "Configured max overflow (summed)", multiprocess_mode="livesum")
db_pool_checked_out = Gauge("db_pool_checked_out", "Connections checked out of the pool", multiprocess_mode="livesum")
db_pool_overflow = Gauge("db_pool_overflow", "Overflow connections open", multiprocess_mode="livesum")
db_connections_active = Gauge("db_connections_active", "Connections in use by requests", multiprocess_mode="livesum")

# --- Cache, rate limiting, billing ------------------------------------------------------------
cache_requests_total = Counter("cache_requests_total", "Cache lookups", ["cache", "result"])
rate_limit_rejections_total = Counter("rate_limit_rejections_total", "Requests rejected by a rate limit", ["scope"])
billing_provider_requests_total = Counter(
    "billing_provider_requests_total", "Calls to the payment provider", ["outcome"]
)

# --- Business (incremented only after the transaction that records them commits) ---------------
signups_total = Counter("signups_total", "Users signed up")
projects_created_total = Counter("projects_created_total", "Projects created")
tasks_completed_total = Counter("tasks_completed_total", "Tasks completed")
plan_upgrades_total = Counter("plan_upgrades_total", "Plan upgrades", ["plan"])

# --- Analytics delivery -----------------------------------------------------------------------
# Set by whichever worker ran the latest delivery cycle.
analytics_outbox_depth = Gauge(
    "analytics_outbox_depth", "Undelivered business events", multiprocess_mode="livemostrecent"
)
analytics_outbox_oldest_age_seconds = Gauge(
    "analytics_outbox_oldest_age_seconds", "Age of the oldest undelivered business event",
    multiprocess_mode="livemostrecent",
)
analytics_events_delivered_total = Counter("analytics_events_delivered_total", "Business events delivered")
analytics_delivery_failures_total = Counter(
    "analytics_delivery_failures_total", "Failed delivery attempts (batches)"
)

# --- Web vitals (RUM) -------------------------------------------------------------------------
_VITAL_SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0, 20.0)
web_vitals_lcp_seconds = Histogram("web_vitals_lcp_seconds", "Largest Contentful Paint", ["page"],
                                   buckets=_VITAL_SECONDS_BUCKETS)
web_vitals_fcp_seconds = Histogram("web_vitals_fcp_seconds", "First Contentful Paint", ["page"],
                                   buckets=_VITAL_SECONDS_BUCKETS)
web_vitals_ttfb_seconds = Histogram("web_vitals_ttfb_seconds", "Time To First Byte", ["page"],
                                    buckets=(0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0))
web_vitals_inp_seconds = Histogram("web_vitals_inp_seconds", "Interaction to Next Paint", ["page"],
                                   buckets=(0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0))
web_vitals_cls = Histogram("web_vitals_cls", "Cumulative Layout Shift (unitless)", ["page"],
                           buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0))
WEB_VITAL_HISTOGRAMS = {
    "LCP": web_vitals_lcp_seconds, "FCP": web_vitals_fcp_seconds, "TTFB": web_vitals_ttfb_seconds,
    "INP": web_vitals_inp_seconds, "CLS": web_vitals_cls,
}

app_info = Gauge("app_info", "Build and environment of the running service", ["version", "environment"],
                 multiprocess_mode="livemax")


def set_app_info(version: str, environment: str) -> None:
    app_info.labels(version=version, environment=environment).set(1)


# The Sentry sample rates in force, so that Prometheus can estimate what Sentry costs at the
# current traffic (cost:* recording rules, monitoring/rules/catalogue.py): the settings, and for
# traces the rate app/core/trace_budget.py lowers it to while a worker's traffic exceeds
# SENTRY_TRACES_MAX_PER_SECOND (the highest of the workers' rates).
sentry_sample_rate = Gauge("sentry_sample_rate", "Share of requests/errors/profiles sent to Sentry (in force)",
                           ["kind"], multiprocess_mode="livemax")


def set_sentry_sample_rates(*, traces: float, errors: float, profiles: float) -> None:
    for kind, rate in (("traces", traces), ("errors", errors), ("profiles", profiles)):
        sentry_sample_rate.labels(kind=kind).set(rate)


def set_traces_rate_in_force(rate: float) -> None:
    sentry_sample_rate.labels(kind="traces").set(rate)


# --- Request recording (hot path) ---------------------------------------------------------------

def route_template(scope: dict[str, Any]) -> str:
    """The matched route's path template, never the raw path."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED_ROUTE
    # FastAPI >= 0.137 keeps the prefix-resolved path on an effective route context.
    ctx = scope.get("fastapi", {}).get("effective_route_context") if "fastapi" in scope else None
    path = getattr(ctx, "path", None) or getattr(route, "path_format", None) or getattr(route, "path", None)
    return path or UNMATCHED_ROUTE


def bounded_method(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"


_in_progress_children: dict[str, Any] = {}
_request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_usage_children: dict[tuple[str, str], Any] = {}


def request_started(method: str) -> None:
    """http_requests_in_progress{method} + 1 (request_finished takes it back)."""
    child = _in_progress_children.get(method)
    if child is None:
        child = _in_progress_children[method] = http_requests_in_progress.labels(method)
    batch.inc(child, 1.0)


def request_finished(method: str) -> None:
    batch.inc(_in_progress_children[method], -1.0)


def observe_request(method: str, route: str, status: int, duration: float, trace_id: str | None) -> None:
    key = (method, route, status)
    children = _request_children.get(key)
    if children is None:
        children = _request_children[key] = (
            http_requests_total.labels(method, route, str(status)),
            http_request_duration_seconds.labels(method, route),
        )
    batch.inc(children[0])
    if trace_id is None:
        batch.observe(children[1], duration)
    elif MULTIPROCESS:
        batch.observe(children[1], duration)
        metrics_multiprocess_writer.record(method, route, duration, trace_id, LATENCY_BUCKETS)
    else:
        children[1].observe(duration, {"trace_id": trace_id})


def observe_api_usage(route: str, plan: str) -> None:
    key = (route, plan)
    child = _usage_children.get(key)
    if child is None:
        child = _usage_children[key] = api_usage_total.labels(route, plan)
    batch.inc(child)


def observe_unhandled_exception(exc: BaseException, route: str) -> None:
    http_unhandled_exceptions_total.labels(type(exc).__name__, route).inc()


_cache_children: dict[tuple[str, str], Any] = {}


def record_cache(cache: str, result: str) -> None:
    """result: hit, miss or error."""
    key = (cache, result)
    child = _cache_children.get(key)
    if child is None:
        child = _cache_children[key] = cache_requests_total.labels(cache, result)
    batch.inc(child)


def record_rate_limit_rejection(scope: str) -> None:
    rate_limit_rejections_total.labels(scope).inc()


def record_billing_outcome(outcome: str) -> None:
    """outcome: ok, error or timeout."""
    billing_provider_requests_total.labels(outcome).inc()


# --- Database: statement timing and pool gauges (SQLAlchemy engine and pool events) -------------

_OPERATIONS = ("select", "insert", "update", "delete")
_db_children = {op: db_query_duration_seconds.labels(op) for op in (*_OPERATIONS, "other")}
_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
_NUMBER_LITERAL = re.compile(r"(?<![$\w])\d+(?:\.\d+)?\b")
_WHITESPACE = re.compile(r"\s+")


def statement_operation(statement: str) -> str:
    head = statement.lstrip()[:6].lower()
    return head if head in _OPERATIONS else "other"


def statement_shape(statement: str, limit: int = 400) -> str:
    """The statement without any literal values (parameters are bound separately and never logged)."""
    shape = _NUMBER_LITERAL.sub("?", _STRING_LITERAL.sub("?", statement))
    return _WHITESPACE.sub(" ", shape).strip()[:limit]


POOL_SAMPLE_SECONDS = 0.5


def instrument_engine(engine: Any, pool_size: int, max_overflow: int) -> None:
    """Attach statement timing to an (async) SQLAlchemy engine and count its pool capacity.

    Statements are timed with the dialect's do_execute/do_execute_no_params/do_executemany
    events, which run the statement (through the dialect's own method) and return True, as
    DialectEvents documents; not with engine-level listeners, which cost every connection more
    than the timing itself (docs/benchmarks.md). Inside a sampled Sentry transaction each
    statement is also a `db` span (app/core/trace_spans.py). The pool gauges come from PoolGaugeSampler.
    """
    from sqlalchemy import event

    from app.core.logging import get_logger

    log = get_logger("app.db")
    sync_engine = getattr(engine, "sync_engine", engine)
    dialect = sync_engine.dialect
    sampled_parent = trace_spans.sampled_parent
    record_span = trace_spans.statement_recorder(sync_engine, statement_shape)

    db_pool_size.inc(pool_size)
    db_pool_max_overflow.inc(max_overflow)
    perf_counter = time.perf_counter

    def observe(statement: str, duration: float) -> None:
        operation = statement_operation(statement)
        batch.observe(_db_children[operation], duration)
        if duration > SLOW_QUERY_SECONDS:
            db_slow_queries_total.labels(operation).inc()
            log.warning("slow_query", operation=operation, duration_ms=round(duration * 1000, 1),
                        statement=statement_shape(statement))
        parent = sampled_parent()  # a `db` span in sampled transactions only (app/core/trace_spans.py)
        if parent is not None:
            record_span(parent, statement, duration)

    # A statement that raises is not observed (as before); the error goes on to SQLAlchemy.
    @event.listens_for(sync_engine, "do_execute")
    def _do_execute(cursor, statement, parameters, context):  # noqa: ANN001, ANN202
        start = perf_counter()
        dialect.do_execute(cursor, statement, parameters, context)
        observe(statement, perf_counter() - start)
        return True

    @event.listens_for(sync_engine, "do_execute_no_params")
    def _do_execute_no_params(cursor, statement, context):  # noqa: ANN001, ANN202
        start = perf_counter()
        dialect.do_execute_no_params(cursor, statement, context)
        observe(statement, perf_counter() - start)
        return True

    @event.listens_for(sync_engine, "do_executemany")
    def _do_executemany(cursor, statement, parameters, context):  # noqa: ANN001, ANN202
        start = perf_counter()
        dialect.do_executemany(cursor, statement, parameters, context)
        observe(statement, perf_counter() - start)
        return True


class PoolGaugeSampler:
    """db_pool_checked_out, db_pool_overflow and db_connections_active, read from the pool.

    Sampled every POOL_SAMPLE_SECONDS, below every scrape interval, instead of updated on every
    checkout/checkin event (docs/benchmarks.md); written only when a value changed. checkedout()
    counts every connection out of the pool, including the ones held by the db_pool_hold fault.
    """

    def __init__(self, engine: Any, interval: float = POOL_SAMPLE_SECONDS) -> None:
        self.pool = getattr(engine, "sync_engine", engine).pool
        self.interval = interval
        self._last: tuple[int, int] | None = None

    def sample(self) -> None:
        pool = self.pool
        checked_out = pool.checkedout()
        overflow = max(0, pool.overflow())
        if (checked_out, overflow) != self._last:
            self._last = (checked_out, overflow)
            db_pool_checked_out.set(checked_out)
            db_connections_active.set(checked_out)
            db_pool_overflow.set(overflow)

    async def run(self) -> None:
        import asyncio

        while True:
            self.sample()
            await asyncio.sleep(self.interval)


def uninstrument_pool_gauges(pool_size: int, max_overflow: int) -> None:
    """On engine dispose: this worker no longer contributes capacity or connections."""
    db_pool_size.dec(pool_size)
    db_pool_max_overflow.dec(max_overflow)
    db_pool_checked_out.set(0)
    db_connections_active.set(0)
    db_pool_overflow.set(0)
