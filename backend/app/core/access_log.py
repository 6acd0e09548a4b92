"""The access line: one JSON line per request (app/core/request_middleware.py), rendered here.

Hand-written rather than through structlog's processor chain (app/core/logging.access_logger):
the line's fields are fixed by the middleware, so the chain's per-call work (bound-logger
dispatch, three processors, datetime.isoformat for the timestamp, the sink's extra write and
flush frames) was most of its cost (docs/benchmarks.md). Same JSON shape and output as every
other line: {"logger_name", the fields, "event", "level", "timestamp"} (UTC ISO 8601 with
microseconds and Z), orjson, to the stream app/core/logging.py writes to, flushed per line, and
written only when INFO is enabled. The path is the only client-controlled text and is scrubbed
(e-mail addresses, bearer credentials) as by the general redaction.
"""

from __future__ import annotations

import logging
import time

import orjson

from app.core.logging import ACCESS_LOGGER_NAME, access_logger, line_sink, scrub_text

_NEWLINE = orjson.OPT_APPEND_NEWLINE
_second = -1
_second_prefix = ""


def _timestamp() -> str:
    """What structlog's TimeStamper(fmt="iso", utc=True) writes, with the second's prefix cached."""
    global _second, _second_prefix
    now = time.time()
    second = int(now)
    if second != _second:
        _second = second
        _second_prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_second_prefix}.{int((now - second) * 1e6):06d}Z"


def write_access_line(request_id: str, method: str, route: str, path: str, status_code: int,
                      duration_ms: float, user_id: str | None, trace_id: str | None) -> None:
    stream, level = line_sink()
    if stream is None:  # logging not configured: the default structlog pipeline
        access_logger().info("request", request_id=request_id, method=method, route=route, path=path,
                             status_code=status_code, duration_ms=duration_ms, user_id=user_id, trace_id=trace_id)
        return
    if level > logging.INFO:
        return
    if "@" in path or "earer" in path:
        path = scrub_text(path)
    stream.write(orjson.dumps({
        "logger_name": ACCESS_LOGGER_NAME, "request_id": request_id, "method": method, "route": route,
        "path": path, "status_code": status_code, "duration_ms": duration_ms, "user_id": user_id,
        "trace_id": trace_id, "event": "request", "level": "info", "timestamp": _timestamp(),
    }, option=_NEWLINE))
    stream.flush()
