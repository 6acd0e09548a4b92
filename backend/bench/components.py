"""CPU per call of each piece of the always-on request path, in one process, no network:

    cd backend && ../.venv/bin/python -m bench.components [--number 20000]

What app/core/request_middleware.py does per request, piece by piece (best of 5 timeit runs, in
microseconds per call), with the multiprocess metric files in a temporary directory and the log
lines to /dev/null, as in a worker. The rows marked "(before)" are what the piece cost before the
work recorded in docs/benchmarks.md, kept as the reference for it. Where the in-process and wrk
ratios are too noisy on a shared machine to separate a few microseconds, this is the profile.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import timeit
import uuid

REQUEST_ID = "0123456789abcdef0123456789abcdef"
USER_ID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
HEADERS = [(b"host", b"bench"), (b"authorization", b"Bearer abc"), (b"user-agent", b"wrk")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-components-")

    import sentry_sdk

    from app.core import correlation, metrics
    from app.core.access_log import write_access_line
    from app.core.logging import access_logger, configure_logging
    from app.core.request_middleware import _begin_request_trace
    from app.core.sentry import RequestSampler, enter_request_scopes, exit_request_scopes

    configure_logging("INFO", stream=open(os.devnull, "wb"))  # noqa: SIM115 - for the process
    sentry_sdk.init(dsn=None, default_integrations=False)
    sampler = RequestSampler(0.0)
    scope = {"headers": HEADERS, "path": "/api/projects", "query_string": b"limit=20"}
    in_progress = metrics.in_progress("GET")
    structlog_access = access_logger()

    def sentry_request_scopes() -> None:
        tokens = enter_request_scopes()
        _begin_request_trace(HEADERS)
        exit_request_scopes(tokens)

    def sentry_request_scopes_before() -> None:
        scopes = sentry_sdk.isolation_scope()
        scopes.__enter__()
        _begin_request_trace(HEADERS)
        scopes.__exit__(None, None, None)

    def begin_end() -> None:
        correlation.end(correlation.begin(REQUEST_ID)[1])

    pieces = {
        "request ID (os.urandom)": lambda: correlation.request_id_from_headers(HEADERS),
        "request ID (before: uuid4().hex)": lambda: uuid.uuid4().hex,
        "request context begin/end": begin_end,
        "in-flight gauge inc+dec (2 writes)": lambda: (in_progress.inc(), in_progress.dec()),
        "sampling decision": lambda: sampler(scope),
        "Sentry scopes + trace": sentry_request_scopes,
        "Sentry scopes + trace (before: isolation_scope())": sentry_request_scopes_before,
        "request counter + histogram (3 writes)": lambda: metrics.observe_request("GET", "/api/projects", 200,
                                                                               0.003, None),
        "api usage counter (1 write)": lambda: metrics.observe_api_usage("/api/projects", "free"),
        "cache counter (1 write)": lambda: metrics.record_cache("project", "hit"),
        "statement histogram (2 writes)": lambda: metrics._db_children["select"].observe(0.001),
        "access line (orjson, direct)": lambda: write_access_line(REQUEST_ID, "GET", "/api/projects",
                                                                  "/api/projects", 200, 1.23, USER_ID, REQUEST_ID),
        "access line (before: structlog chain)": lambda: structlog_access.info(
            "request", request_id=REQUEST_ID, method="GET", route="/api/projects", path="/api/projects",
            status_code=200, duration_ms=1.23, user_id=USER_ID, trace_id=REQUEST_ID),
    }
    print(f"{'piece':<50}{'us/call':>9}")
    for name, fn in pieces.items():
        best = min(timeit.repeat(fn, number=args.number, repeat=5)) / args.number * 1e6
        print(f"{name:<50}{best:9.2f}")
    print(f"(load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}, {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
