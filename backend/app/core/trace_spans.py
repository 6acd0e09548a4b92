"""Spans of sampled traces: every SQL statement and Redis command, recorded only inside a sampled
transaction.

Sentry's Sqlalchemy and Redis integrations add a breadcrumb and a span for every statement and
command of every request, traced or not (≈ 45–50 µs each, docs/benchmarks.md), so they are not
enabled (app/core/sentry.py). Here an unsampled request pays one check per statement/command,
`sampled_parent()`: the current Sentry scope's span, which the request middleware clears for every
request and only app/core/sampled_transaction.py sets (to the transaction of a sampled request).
Nothing else runs, no span or breadcrumb is made.

Inside a sampled transaction the spans are named as those integrations name them, so that Sentry's
N+1-query and slow-DB-query detectors and its Queries and Caches views work on them:

- SQL (hooked in the dialect's do_execute* events with the statement timing, app/core/metrics.py):
  op `db`, the statement (bound parameters are never part of it; literals are replaced by `?` by
  the shaping function the caller passes) as description, `db.system`, `db.driver.name`,
  `db.name`, `server.address`, `server.port` as data. The span is recorded when the statement
  returned, with its measured start and end; a statement that raised has no span (the error event
  and the `unhandled_exception` line carry it).
- Redis (`TracedRedis`, app/core/redis.py): op `db.redis` per command with the command name and
  the *shape* of its key as description (`GET nstest:ab12:project:*`: the prefix and the key's
  first segment; never a value, never the rest of a key, because the rate limiter's keys hold
  client addresses and the session cache's a token hash); a pipeline is one span
  `redis.pipeline.execute` with its command names. GET/SET/SETEX are the cache's commands (the
  only plain keys the app reads and writes are app/core/redis.py's Cache), so each is wrapped in a
  `cache.get`/`cache.put` span with `cache.key`, `cache.hit` and `cache.item_size`, as the Redis
  integration does with `cache_prefixes`.

Hand-written rather than the integrations with a sampled check added: they patch the classes
globally and build the breadcrumb (the expensive part) before looking at the span.

What a span costs once recorded (issue 15 item 1, docs/benchmarks.md "DB and Redis spans"): in
sentry-sdk 2.75 about 680 Python calls per span, ~80% of them the SDK's generic event serializer
walking the span's ~20 values (memo, path, databag checks and truncation per value) and most of
the rest the EventScrubber walking its data recursively. Our spans' content is built here from
fixed keys and shapes, so `TraceSpansIntegration` (an event processor, before the scrubber and
the serializer) replaces each span of ours whose data keys are all in ALLOWED_DATA_KEYS by a
`SerializedSpan`: the same dict with its two timestamps formatted as the serializer formats them,
which the serializer takes as is (`__sentry_repr__`, the SDK's hook for objects that serialize
themselves) and app/core/sentry.py's scrubber skips (checked here by key, once). A span with any
other data key (or not ours: httpx spans carry URLs) goes through the scrubber and serializer
as before. Our spans add no breadcrumbs (sentry-sdk 2.x Span.finish makes none; the integrations'
breadcrumbs come from their own hooks).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

import sentry_sdk
from sentry_sdk.consts import OP, SPANDATA, SPANSTATUS
from sentry_sdk.integrations import Integration
from sentry_sdk.scope import Scope, add_global_event_processor
from sentry_sdk.tracing import Span
from sentry_sdk.tracing_utils import add_query_source
from sentry_sdk.utils import capture_internal_exceptions, format_timestamp

DB_ORIGIN = "auto.db.app"
REDIS_ORIGIN = "auto.db.redis.app"
MAX_DESCRIPTION = 2000
_current_scope = Scope.get_current_scope
CACHE_OPS = {"GET": OP.CACHE_GET, "SET": OP.CACHE_PUT, "SETEX": OP.CACHE_PUT}
# sentry-sdk's default db_query_source_threshold_ms (not set in app/core/sentry.py): add_query_source
# records the code location only above it, so below it the call is skipped here.
QUERY_SOURCE_THRESHOLD_S = 0.1
OUR_ORIGINS = frozenset({DB_ORIGIN, REDIS_ORIGIN})
# Every data key our spans carry: set here (db.*, server.*, redis.*, cache.*), by the SDK on every
# span (thread.*, profiler_id) and by add_query_source (code.*). None holds a value or PII.
ALLOWED_DATA_KEYS = frozenset({
    SPANDATA.DB_SYSTEM, SPANDATA.DB_DRIVER_NAME, SPANDATA.DB_NAME, SPANDATA.SERVER_ADDRESS, SPANDATA.SERVER_PORT,
    SPANDATA.DB_OPERATION, "redis.key", "redis.commands", "redis.transaction",
    SPANDATA.CACHE_KEY, SPANDATA.CACHE_HIT, SPANDATA.CACHE_ITEM_SIZE,
    SPANDATA.THREAD_ID, SPANDATA.THREAD_NAME, SPANDATA.PROFILER_ID,
    SPANDATA.CODE_FILEPATH, SPANDATA.CODE_FUNCTION, SPANDATA.CODE_LINENO, SPANDATA.CODE_NAMESPACE,
})


def sampled_parent() -> Span | None:
    """The span a DB/Redis span would be a child of, or None outside a sampled transaction
    (the unsampled path's one check)."""
    span = _current_scope().span
    return span if span is not None and span.sampled else None


# --- SQL --------------------------------------------------------------------------------------

def _db_system(dialect_name: str) -> str:
    return "postgresql" if "postgres" in dialect_name else dialect_name


def statement_recorder(sync_engine: Any, describe: Callable[[str, int], str]) -> Callable[[Span, str, float], None]:
    """A function recording one finished statement as a `db` span of `parent`; `describe` turns a
    statement into its description (app/core/metrics.statement_shape, memoised here: the
    statements are the ORM's compiled, parameterised few, and the shaping regexes cost more than
    the rest of the span)."""
    describe = functools.lru_cache(maxsize=1024)(describe)
    url = sync_engine.url
    data = {SPANDATA.DB_SYSTEM: _db_system(sync_engine.dialect.name), SPANDATA.DB_DRIVER_NAME: sync_engine.dialect.driver}
    for key, value in ((SPANDATA.DB_NAME, url.database), (SPANDATA.SERVER_ADDRESS, url.host),
                       (SPANDATA.SERVER_PORT, url.port)):
        if value is not None:
            data[key] = value

    def record(parent: Span, statement: str, duration: float) -> None:
        with capture_internal_exceptions():
            end = time.time()
            span = parent.start_child(op=OP.DB, name=describe(statement, MAX_DESCRIPTION), origin=DB_ORIGIN,
                                      start_timestamp=end - duration)
            span.update_data(data)
            span.finish(end_timestamp=end)
            if duration > QUERY_SOURCE_THRESHOLD_S:
                add_query_source(span)  # the code location, for statements over Sentry's threshold

    return record


# --- Redis ------------------------------------------------------------------------------------

def key_shape(key: Any, prefix: str) -> str:
    """`<prefix><first segment>:*`: which kind of key, never which key."""
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
    rest = text[len(prefix):] if prefix and text.startswith(prefix) else text
    head, sep, _ = rest.partition(":")
    return f"{prefix}{head}{':*' if sep else ''}"


def redis_span_data(connection_kwargs: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {SPANDATA.DB_SYSTEM: "redis", SPANDATA.DB_DRIVER_NAME: "redis-py"}
    for key, name in ((SPANDATA.DB_NAME, "db"), (SPANDATA.SERVER_ADDRESS, "host"), (SPANDATA.SERVER_PORT, "port")):
        value = connection_kwargs.get(name)
        if value is not None:
            data[key] = str(value) if key == SPANDATA.DB_NAME else value
    return data


def _item_size(value: Any) -> int | None:
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, str):
        return len(value.encode())
    return None


async def traced_command(parent: Span, command: Awaitable[Any], args: tuple[Any, ...], prefix: str,
                         data: dict[str, Any]) -> Any:
    """Await one Redis command as a `db.redis` span (in a `cache.*` span for GET/SET/SETEX)."""
    name = str(args[0]).upper()
    shape = key_shape(args[1], prefix) if len(args) > 1 else None
    cache_op = CACHE_OPS.get(name) if shape is not None else None
    outer = parent.start_child(op=cache_op, name=shape, origin=REDIS_ORIGIN) if cache_op else None
    span = (outer or parent).start_child(op=OP.DB_REDIS, name=f"{name} {shape}" if shape else name,
                                         origin=REDIS_ORIGIN)
    span.update_data(data)
    span.set_data(SPANDATA.DB_OPERATION, name)
    if shape is not None:
        span.set_data("redis.key", shape)
    if outer is not None:
        outer.set_data(SPANDATA.CACHE_KEY, [shape])
        if cache_op == OP.CACHE_PUT and len(args) > 2:
            size = _item_size(args[-1])
            if size is not None:
                outer.set_data(SPANDATA.CACHE_ITEM_SIZE, size)
    try:
        result = await command
    except BaseException:
        span.set_status(SPANSTATUS.INTERNAL_ERROR)
        span.finish()
        if outer is not None:
            outer.set_status(SPANSTATUS.INTERNAL_ERROR)
            outer.finish()
        raise
    span.finish()
    if outer is not None:
        if cache_op == OP.CACHE_GET:
            outer.set_data(SPANDATA.CACHE_HIT, result is not None)
            size = _item_size(result)
            if size is not None:
                outer.set_data(SPANDATA.CACHE_ITEM_SIZE, size)
        outer.finish()
    return result


async def traced_pipeline(parent: Span, execute: Awaitable[Any], command_names: list[str], transaction: bool,
                          data: dict[str, Any]) -> Any:
    """Await a pipeline's execute() as one `db.redis` span named as the Redis integration names it."""
    span = parent.start_child(op=OP.DB_REDIS, name="redis.pipeline.execute", origin=REDIS_ORIGIN)
    span.update_data(data)
    span.set_data("redis.commands", {"count": len(command_names), "first_ten": command_names[:10]})
    span.set_data("redis.transaction", transaction)
    try:
        return await execute
    except BaseException:
        span.set_status(SPANSTATUS.INTERNAL_ERROR)
        raise
    finally:
        span.finish()


# --- the recorded spans in the transaction event ---------------------------------------------

class SerializedSpan(dict):
    """A span of ours, already in its serialized form: sentry-sdk's serializer returns
    `__sentry_repr__`'s value instead of walking it; app/core/sentry.py's scrubber skips it."""

    def __sentry_repr__(self) -> dict[str, Any]:
        return self


def serialized_span(span: Any) -> Any:
    """`span` (a dict of Span.to_json) as a SerializedSpan if it is ours and all its data keys are
    allowed, else unchanged (for the scrubber and the serializer)."""
    if (type(span) is not dict or span.get("origin") not in OUR_ORIGINS
            or not ALLOWED_DATA_KEYS.issuperset(span.get("data", ()))):
        return span
    out = SerializedSpan(span)
    for key in ("start_timestamp", "timestamp"):
        value = out.get(key)
        if value is not None and not isinstance(value, (str, int, float)):
            out[key] = format_timestamp(value)
    return out


def serialize_our_spans(event: dict[str, Any], hint: Any) -> dict[str, Any]:
    spans = event.get("spans")
    if event.get("type") == "transaction" and type(spans) is list:
        if sentry_sdk.get_client().get_integration(TraceSpansIntegration) is not None:
            event["spans"] = [serialized_span(span) for span in spans]
    return event


class TraceSpansIntegration(Integration):
    """Registers serialize_our_spans as an event processor (once per process, as integrations are)."""

    identifier = "app_trace_spans"

    @staticmethod
    def setup_once() -> None:
        add_global_event_processor(serialize_our_spans)
