"""structlog rendered through stdlib logging to stdout, as the seed and the common hand-wired stack
configure it (bench/seed_style.py, bench/handwired_style.py; benchmark only): the baseline the app's
own logging (app/core/logging.py) is measured against."""

from __future__ import annotations

import logging
import sys

import structlog


def configure(*, merge_contextvars: bool) -> None:
    """merge_contextvars: bind per-request context through structlog's contextvars (the hand-wired
    stack does, the seed does not)."""
    structlog.configure(
        processors=[
            *([structlog.contextvars.merge_contextvars] if merge_contextvars else []),
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        context_class=dict,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)
