"""CPU per request of the uvicorn worker under wrk, by thread: where a variant's extra cost is spent.

    cd backend && ../.venv/bin/python -m bench.worker_cpu [--duration 5] [--rounds 1] [--only bare always-on ...]

The same variants, app, database set-up and wrk load as `bench.run`, but instead of the ratio of
requests/s (which moves by several points between runs on a shared machine) it prints the
worker's own CPU time per request, read from /proc before and after each wrk run: user and
system time, the event loop's thread and the other threads (sentry-sdk's transport worker) apart,
and voluntary context switches; the transaction agent's CPU (the worker's child process,
app/core/transaction_agent.py) in a column of its own. The worker is CPU-bound at -c32, so these µs are what the
throughput ratios are made of, and they move far less with the machine's load.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

import psutil

from bench import run as bench_run
from bench.loopback_sink import LoopbackSink
from infra.local.app_server import LiveServer


def sample(pid: int) -> dict[str, float]:
    """user, sys, main-thread and other-thread CPU seconds, voluntary context switches (psutil)."""
    process = psutil.Process(pid)
    times = process.cpu_times()
    threads = {t.id: t.user_time + t.system_time for t in process.threads()}
    main = threads.pop(pid, 0.0)
    agent = 0.0  # the transaction agent (app/core/transaction_agent.py), the worker's child process
    for child in process.children():
        with contextlib.suppress(psutil.NoSuchProcess):
            child_times = child.cpu_times()
            agent += child_times.user + child_times.system
    return {"user": times.user, "sys": times.system, "main": main, "others": sum(threads.values()),
            "switches": process.num_ctx_switches().voluntary, "agent": agent}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", nargs="*", default=["bare", "always-on", "traced-10%"])
    parser.add_argument("--variant", action="append", default=[], metavar="NAME:KEY=VAL,KEY=VAL",
                        help="add an ad-hoc variant with these environment overrides (as bench.run's)")
    args = parser.parse_args()
    bench_run.add_variants(args.variant)
    variants = [v for v in bench_run.VARIANTS if v.name in args.only]

    sink = LoopbackSink()
    log_dir = Path(os.environ.get("BENCH_LOG_DIR", "/tmp"))
    load_before = bench_run.load_average()
    with bench_run.bench_environment(sink.url) as base_env, contextlib.ExitStack() as stack:
        targets = {}
        for v in variants:
            server = stack.enter_context(LiveServer(bench_run.variant_env(base_env, v), app=v.app,
                                                    factory=v.factory,
                                                    log_path=log_dir / f"bench-cpu-{v.name}.log"))
            targets[v.name] = (server, *bench_run.seed(server.url))
        print(f"{'endpoint':<22}{'variant':<20}{'req/s':>7}{'user us':>9}{'sys us':>8}{'loop thread':>12}"
              f"{'other thr.':>11}{'vol. cs':>8}{'agent us':>10}   (worker CPU per request; the agent's apart)")
        for _ in range(args.rounds):
            for label, path in bench_run.ENDPOINTS.items():
                for v in variants:
                    server, token, project_id = targets[v.name]
                    before = sample(server.process.pid)
                    result = bench_run.wrk(server.url + path.format(project_id=project_id), token,
                                           args.duration, args.connections)
                    after = sample(server.process.pid)
                    n = max(1.0, result.rps * args.duration)
                    d = {k: (after[k] - before[k]) / n for k in after}
                    print(f"{label:<22}{v.name:<20}{result.rps:>7.0f}{d['user'] * 1e6:>9.0f}{d['sys'] * 1e6:>8.0f}"
                          f"{d['main'] * 1e6:>12.0f}{d['others'] * 1e6:>11.0f}{d['switches']:>8.2f}"
                          f"{d['agent'] * 1e6:>10.0f}", flush=True)
    print(f"(load average {load_before} before, {bench_run.load_average()} after; sink received {sink.received})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
