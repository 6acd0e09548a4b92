"""CPU per call of each piece of the always-on request path, in one process, no network:

    cd backend && ../.venv/bin/python -m bench.components [--number 20000]
    cd backend && ../.venv/bin/python -m bench.components --instructions [--number 1000]

What app/core/request_middleware.py does per request, piece by piece (best of 5 timeit runs, in
microseconds per call), with the multiprocess metric files in a temporary directory and the log
lines to /dev/null, as in a worker. The rows marked "(before)" are what the piece cost before the
work recorded in docs/benchmarks.md, kept as the reference for it. Where the in-process and wrk
ratios are too noisy on a shared machine to separate a few microseconds, this is the profile.
`--instructions` re-runs itself under Valgrind's callgrind and prints each piece's instructions
per call instead (bench/instruction_window.py): the same ranking, independent of the machine's load.
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
    parser.add_argument("--number", type=int, default=None, help="calls per piece (20000; 1000 with --instructions)")
    parser.add_argument("--instructions", action="store_true", help="instructions per call, under callgrind")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.number = args.number or (1000 if args.instructions else 20000)
    if args.instructions and not args.child:
        return _count_instructions(args.number)
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
        "in-flight gauge up+down": lambda: (metrics.request_started("GET"), metrics.request_finished("GET")),
        "sampling decision": lambda: sampler(scope),
        "Sentry scopes + trace": sentry_request_scopes,
        "Sentry scopes + trace (before: isolation_scope())": sentry_request_scopes_before,
        "request counter + histogram": lambda: metrics.observe_request("GET", "/api/projects", 200,
                                                                               0.003, None),
        "api usage counter": lambda: metrics.observe_api_usage("/api/projects", "free"),
        "cache counter": lambda: metrics.record_cache("project", "hit"),
        "statement histogram": lambda: metrics.batch.observe(metrics._db_children["select"], 0.001),
        "statement histogram (before: prometheus_client's observe)": lambda: metrics._db_children["select"].observe(0.001),
        "access line (orjson, direct)": lambda: write_access_line(REQUEST_ID, "GET", "/api/projects",
                                                                  "/api/projects", 200, 1.23, USER_ID, REQUEST_ID),
        "access line (before: structlog chain)": lambda: structlog_access.info(
            "request", request_id=REQUEST_ID, method="GET", route="/api/projects", path="/api/projects",
            status_code=200, duration_ms=1.23, user_id=USER_ID, trace_id=REQUEST_ID),
    }
    if args.child:  # under callgrind: one window per piece, read by _count_instructions
        from bench.instruction_window import instruction_window

        for name, fn in pieces.items():
            timeit.timeit(fn, number=50)  # warm up outside the window
            with instruction_window(name):
                timeit.timeit(fn, number=args.number)
        return 0
    print(f"{'piece':<50}{'us/call':>9}")
    for name, fn in pieces.items():
        best = min(timeit.repeat(fn, number=args.number, repeat=5)) / args.number * 1e6
        print(f"{name:<50}{best:9.2f}")
    print(f"(load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}, {os.cpu_count()} CPUs)")
    return 0


def _count_instructions(number: int) -> int:
    import subprocess

    from bench.instruction_window import read_windows, under_callgrind

    out = os.path.join(tempfile.mkdtemp(prefix="bench-components-cg-"), "callgrind.out")
    cmd, env = under_callgrind([sys.executable, "-m", "bench.components", "--instructions", "--child",
                                "--number", str(number)], out, dict(os.environ))
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    print(f"{'piece':<58}{'instructions/call':>18}")
    for name, count in read_windows(out).items():
        print(f"{name:<58}{count / number:>18,.0f}")
    print(f"(callgrind, {number} calls per piece after 50 warm-up ones, timeit's loop included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
