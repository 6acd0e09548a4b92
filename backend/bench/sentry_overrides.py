"""Benchmark-only changes to the app's Sentry options, so that an old and a new way can run side by
side in one `bench.run` (`--variant NAME:KEY=VAL`); never read by the app itself.

- BENCH_SENTRY_WITHOUT=<identifier>[+<identifier>...]: the app's integrations minus these (e.g.
  `app_transaction_serializer`: transactions through sentry-sdk's own serializer, as before).
- BENCH_SENTRY_DSN_TO_SINK=1: a DSN pointing at the loopback sink (BENCH_SINK_URL), so events go
  through sentry-sdk's HttpTransport (envelope, compression, urllib3) as in production, instead of
  the DSN-less SpotlightTransport.
- BENCH_SENTRY_FROM_THREAD=1: every envelope sent from the SDK's worker thread, as before
  app/core/sentry_transports.py sent the event loop's from the loop (the SDK's own HttpTransport
  with a DSN, SpotlightTransport without its loop path otherwise).
- BENCH_SENTRY_COMPRESSION=<algo>:<level> (`br:4`, `gzip:9`, `none:0`): the transport's
  compression (`_experiments.transport_compression_algo/_level`), with BENCH_SENTRY_DSN_TO_SINK.
"""

from __future__ import annotations

import functools
import os
from typing import Any
from urllib.parse import urlsplit

from sentry_sdk.transport import HttpTransport

import app.core.sentry as app_sentry
from app.core.sentry_transports import LoopHttpTransport, SpotlightTransport


def sink_dsn() -> str:
    sink = urlsplit(os.environ.get("BENCH_SINK_URL", "http://127.0.0.1:9/stream"))
    return f"http://public@{sink.netloc}/1"


def adjust(options: dict[str, Any]) -> dict[str, Any]:
    without = {name for name in os.environ.get("BENCH_SENTRY_WITHOUT", "").split("+") if name}
    if without:
        options["integrations"] = [i for i in options["integrations"] if i.identifier not in without]
    from_thread = os.environ.get("BENCH_SENTRY_FROM_THREAD") == "1"
    if os.environ.get("BENCH_SENTRY_DSN_TO_SINK") == "1":
        options["dsn"] = sink_dsn()
        options["transport"] = HttpTransport if from_thread else LoopHttpTransport
    elif from_thread and isinstance(options.get("transport"), SpotlightTransport):
        options["transport"].loop_sender.max_queued = 0  # a queue with no room: the thread sends everything
    compression = os.environ.get("BENCH_SENTRY_COMPRESSION")
    if compression:
        algo, _, level = compression.partition(":")
        options["_experiments"] = {**options.get("_experiments", {}), "transport_compression_algo": algo,
                                   "transport_compression_level": int(level or 0)}
    return options


def install() -> None:
    """Wrap app.core.sentry.build_options (what init_sentry calls) with `adjust`, if any knob is set."""
    if not any(os.environ.get(k) for k in ("BENCH_SENTRY_WITHOUT", "BENCH_SENTRY_DSN_TO_SINK",
                                           "BENCH_SENTRY_COMPRESSION", "BENCH_SENTRY_FROM_THREAD")):
        return
    build = app_sentry.build_options

    @functools.wraps(build)
    def build_options(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return adjust(build(*args, **kwargs))

    app_sentry.build_options = build_options
