"""Structured JSON logs: structlog's fast recipe for our own lines, the same shape for stdlib/uvicorn.

- Our lines (the access line, app events): structlog with a cached, level-filtering bound logger,
  orjson rendering straight to bytes (BytesLogger), a third of the cost of a line via stdlib.
- Everyone else's (uvicorn, gunicorn, SQLAlchemy, our modules using `logging.getLogger`): stdlib
  logging with structlog's ProcessorFormatter, so every line on stdout is the same JSON shape:
  {"timestamp", "level", "logger", "event", ...}.
- Every line logged while a request is served, on both paths, carries that request's `request_id`
  and `trace_id` (`add_request_correlation`: read from the request's context, app/core/correlation.py,
  where the middleware sets them once per request; a line's own values win).
- `redact` runs last before rendering on both paths: secrets by key name and e-mail addresses by
  pattern never reach a log line. uvicorn's own access log is disabled (the middleware writes one
  access line per request, see app/core/request_middleware.py).
"""

from __future__ import annotations

import functools
import io
import logging
import re
import sys
from typing import Any, BinaryIO

import orjson
import structlog

from app.core.correlation import current as _current_request

# Keys whose values are secrets whatever they contain (matched as substrings of the lower-cased key).
SECRET_KEY_PARTS = ("password", "passwd", "secret", "token", "authorization", "cookie", "session",
                    "api_key", "apikey", "dsn", "credit_card", "card_number")
# Keys that are allowed although they contain a secret-looking part (IDs, not secrets).
ALLOWED_KEYS = frozenset({"session_id_present"})
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
BEARER_RE = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+")
REDACTED = "[redacted]"
EMAIL_REDACTED = "[email]"

ACCESS_LOGGER_NAME = "northstar.access"


@functools.lru_cache(maxsize=4096)  # keys are a small, bounded set of names: decide each once
def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered not in ALLOWED_KEYS and any(part in lowered for part in SECRET_KEY_PARTS)


def scrub_text(value: str) -> str:
    """Replace e-mail addresses and bearer credentials in free text."""
    if "@" in value:
        value = EMAIL_RE.sub(EMAIL_REDACTED, value)
    if "earer" in value:
        value = BEARER_RE.sub("Bearer " + REDACTED, value)
    return value


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: (REDACTED if isinstance(k, str) and _is_secret_key(k) else _scrub_value(v))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub_value(v) for v in value]
    return value


def redact(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: no secret (by key) and no e-mail address (by pattern) in any line."""
    for key, value in event_dict.items():
        if _is_secret_key(key):
            event_dict[key] = REDACTED
        elif isinstance(value, str):
            if "@" in value or "earer" in value:
                event_dict[key] = scrub_text(value)
        elif isinstance(value, (dict, list, tuple)):
            event_dict[key] = _scrub_value(value)
    return event_dict


def _render_bytes(event_dict: Any, **_kw: Any) -> bytes:
    return orjson.dumps(event_dict, default=str)


def _render_str(event_dict: Any, **_kw: Any) -> str:
    return orjson.dumps(event_dict, default=str).decode()


def _add_logger_name(logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    event_dict.pop("color_message", None)  # uvicorn's ANSI-coloured duplicate of the message
    record = event_dict.get("_record")
    event_dict["logger_name"] = record.name if record is not None else getattr(logger, "name", None)
    return event_dict


def add_request_correlation(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the request ID and trace ID of the request being served, if any.

    The values were set once for the request (app/core/correlation.py); this reads one contextvar
    per line. structlog.contextvars would do the same with a bind per request and a copy of the
    whole context per line (merge_contextvars), which is what the benchmark removed."""
    ctx = _current_request()
    if ctx is not None:
        if "request_id" not in event_dict:
            event_dict["request_id"] = ctx.request_id
        trace_id = ctx.sampled_trace_id or ctx.trace_id
        if trace_id is not None and "trace_id" not in event_dict:
            event_dict["trace_id"] = trace_id
    return event_dict


_timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp")

class _Sink(io.RawIOBase):
    """The one output of every log line; its target can be switched (tests capture it)."""

    def __init__(self, target: BinaryIO) -> None:
        super().__init__()
        self.target = target

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.target.write(data)
        return len(data)

    def flush(self) -> None:
        self.target.flush()


_sink: _Sink | None = None
_level: int = logging.INFO


_stream_override: BinaryIO | None = None


def set_log_stream(stream: BinaryIO) -> None:
    """Redirect every log line (structlog and stdlib) to `stream`, e.g. a BytesIO in tests; it also
    holds when logging is configured afterwards (the first app of a test process does that)."""
    global _stream_override
    _stream_override = stream
    if _sink is not None:
        _sink.target = stream


def stdlib_json_formatter() -> logging.Formatter:
    """stdlib records (uvicorn, gunicorn, libraries) rendered in our JSON shape."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.ExtraAdder(),
            _add_logger_name,
            add_request_correlation,
            _timestamper,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            structlog.processors.JSONRenderer(serializer=_render_str),
        ],
    )


def configure_logging(level: str | int = "INFO", stream: BinaryIO | None = None) -> None:
    """Configure structlog and stdlib logging. Idempotent; `stream` (bytes) defaults to stdout."""
    global _sink
    target = stream or _stream_override or sys.stdout.buffer
    if _sink is None:
        _sink = _Sink(target)
    else:
        _sink.target = target
    global _level
    reset_access_logger()
    numeric_level = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    _level = numeric_level

    # No structlog.contextvars.merge_contextvars: nothing binds structlog contextvars (the request
    # and trace IDs live in app/core/correlation.py, added by add_request_correlation), and merging
    # copies and walks the whole context on every line.
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            add_request_correlation,
            _timestamper,
            structlog.processors.format_exc_info,
            redact,
            structlog.processors.JSONRenderer(serializer=_render_bytes),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.BytesLoggerFactory(_sink),
        cache_logger_on_first_use=True,
    )

    formatter = stdlib_json_formatter()
    text_stream = io.TextIOWrapper(_sink, encoding="utf-8", write_through=True, line_buffering=True)
    handler = logging.StreamHandler(text_stream)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric_level)

    # uvicorn/gunicorn: same handler via propagation; uvicorn's access log is replaced by ours.
    for name in ("uvicorn", "uvicorn.error", "gunicorn", "gunicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers = []
        lg.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
    access.disabled = True
    logging.getLogger("gunicorn.access").disabled = True
    # SQLAlchemy's echo would log statement parameters; never let it through.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


def get_logger(name: str) -> Any:
    """A lazy structlog logger (safe at module level: configuration is read on first use)."""
    return structlog.get_logger(name, logger_name=name)


# The access logger: one cached bound logger, bound once; fields are passed per call.
_access_logger: Any = None


def _redact_access_path(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """The access line's only client-controlled text is the path; everything else is fixed by the
    middleware (validated request ID, bounded method, route template, status, duration, user UUID,
    trace ID), none of it under a secret-looking key."""
    path = event_dict.get("path")
    if path is not None and ("@" in path or "earer" in path):
        event_dict["path"] = scrub_text(path)
    return event_dict


def access_logger() -> Any:
    """The one-line-per-request logger (app/core/request_middleware.py): the same JSON shape and
    output as every other line, through a shorter processor chain than the general `redact`, which
    walks every key and value (docs/benchmarks.md); here only the path can hold client text. Use
    it only with the middleware's fixed fields."""
    global _access_logger
    if _access_logger is None:
        if _sink is None:  # logging not configured (yet): the default structlog pipeline
            return structlog.get_logger(ACCESS_LOGGER_NAME).bind(logger_name=ACCESS_LOGGER_NAME)
        _access_logger = structlog.wrap_logger(
            structlog.BytesLogger(_sink),
            processors=[
                structlog.processors.add_log_level,
                _timestamper,
                _redact_access_path,
                structlog.processors.JSONRenderer(serializer=_render_bytes),
            ],
            wrapper_class=structlog.make_filtering_bound_logger(_level),
            logger_name=ACCESS_LOGGER_NAME,
        )
    return _access_logger


def reset_access_logger() -> None:
    """For tests that reconfigure the output stream."""
    global _access_logger
    _access_logger = None
