"""At what failure rate and latency will we be paged? Sweep a fault's intensity under steady load
and report the level at which each alert starts to fire.

    python -m loadtests.tune                         # error ratio, then added latency
    python -m loadtests.tune --knob error_ratio --levels 0.01,0.02,0.05,0.1
    python -m loadtests.tune --knob latency_ms --levels 250,500,1000,2000 --hold 40 --settle

A staircase by default: one Locust process, the fault raised level by level (each held `--hold`
seconds, long enough for the fast profile's 15 s windows plus `for`), recording every alert that
fires. Alerts on cumulative budget (SLO burn rates) then see the exposure of all lower steps too;
`--settle` clears the fault and waits for every alert to resolve between levels (slower, each level
judged on its own, except the slow-burn tickets whose windows outlast the run).
Runs on the harness's own native stack (fast profile), stopped at the end.
"""

from __future__ import annotations

import argparse
import sys
import time

from infra.testkit import fault_routes
from loadtests import report, report_tune
from loadtests.catalogue import KNOBS, BackendFaults, knob_errors
from loadtests.harness import REPORTS, Context, connect, create_accounts, log, tick, wait_clean_slate, wait_targets
from loadtests.locust_process import LocustProcess
from loadtests.stack_control import harness_stack
from loadtests.verdict import AlertRecorder

DEFAULT_LEVELS = {"error_ratio": [0.005, 0.01, 0.02, 0.05, 0.1, 0.2], "latency_ms": [250, 500, 1000, 1500, 2000, 3000]}


def sweep(ctx: Context, knob: str, levels: list[float], hold: float, settle: bool) -> tuple[list, dict[str, float]]:
    rows, first_level = [], {}
    for level in levels:
        value = int(level) if KNOBS[knob]["type"] == "integer" else float(level)
        fault = BackendFaults({knob: value})
        if settle:
            fault.off(ctx)
            wait_clean_slate(ctx, 150)
        rec = AlertRecorder()
        tick(ctx, rec)
        already = {n for n, tr in rec.tracks.items() if tr.carried}
        fault.on(ctx)
        t0 = time.time()
        while time.time() < t0 + hold:
            tick(ctx, rec)
            time.sleep(0.5)
        r = ctx.prom.query('sum(rate(http_requests_total{job="backend"}[10s]))')
        rps = float(r[0]["value"][1]) if r else 0.0
        fired = {n: tr.first_firing - t0 for n, tr in rec.tracks.items() if tr.first_firing is not None}
        for name in fired:
            first_level.setdefault(name, level)
        rows.append((level, rps, fired, sorted(already)))
        log(f"{knob}={value}: {rps:.1f} req/s; fired: "
            + (", ".join(f"{n} (+{t:.0f}s)" for n, t in sorted(fired.items())) or "none")
            + (f"; still firing from before: {', '.join(sorted(already))}" if already else ""))
    BackendFaults().off(ctx)
    return rows, first_level


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    numeric = [n for n, spec in KNOBS.items() if spec["type"] in ("number", "integer")]
    parser.add_argument("--knob", choices=(*numeric, "both"), default="both",
                        help="a numeric knob of the fault catalogue; both = error_ratio, then latency_ms")
    parser.add_argument("--levels", help="comma-separated levels (one knob only)")
    parser.add_argument("--hold", type=float, default=35.0, help="seconds per level")
    parser.add_argument("--settle", action="store_true", help="wait for all alerts to resolve between levels")
    parser.add_argument("--users", type=int, default=16)
    args = parser.parse_args(argv)
    if not fault_routes.kept():  # every level is a fault, and the stack has no /_faults to take it
        log(f"skipped: {fault_routes.REASON}")
        return 0
    knobs = ["error_ratio", "latency_ms"] if args.knob == "both" else [args.knob]
    if args.levels and len(knobs) > 1:
        parser.error("--levels needs a single --knob")
    if not args.levels and any(k not in DEFAULT_LEVELS for k in knobs):
        parser.error(f"--knob {args.knob} needs --levels")
    for knob in knobs:
        levels = [float(x) for x in args.levels.split(",")] if args.levels else DEFAULT_LEVELS[knob]
        errors = [e for v in levels for e in knob_errors({knob: int(v) if KNOBS[knob]["type"] == "integer" else v})]
        if errors:
            parser.error("; ".join(errors))
    report_dir = REPORTS / f"tune-{report.stamp()}"
    report_dir.mkdir(parents=True, exist_ok=True)
    stack = harness_stack(with_frontend=False, log=lambda m: print(m, flush=True))
    intro = [f"Fast profile, {args.users} Locust users, each level held {args.hold:.0f}s"
             f"{', settled between levels' if args.settle else ' (staircase)'}."]
    results: dict[str, list] = {}
    watched: list[str] = []
    t_run = time.time()
    locust = None
    try:
        ctx = connect(stack.up(), stack, report_dir, t_run, False, runner="tune")
        env, prom = ctx.env, ctx.prom
        # slow-burn alerts (every arm reads a window over 30 min, fast profile) cannot resolve here
        ctx.sticky = {n for n, r in ctx.rules.alerts.items()
                      if r.arms and all(max(w or (0,)) > 1800 for _, w in r.arms)}
        log(f"not awaited between levels (slow burn): {', '.join(sorted(ctx.sticky)) or 'none'}")
        ctx.faults.clear()
        wait_targets(ctx)
        ctx.accounts_file = create_accounts(ctx)
        for knob in knobs:
            levels = [float(x) for x in args.levels.split(",")] if args.levels else DEFAULT_LEVELS[knob]
            budget = int(len(levels) * (args.hold + (160 if args.settle else 5)) + 120)
            locust = LocustProcess(env["BACKEND_URL"], args.users, ("FunnelUser", "ReadHeavyUser"), budget,
                                   report_dir / "locust" / knob, "", ctx.accounts_file)
            locust.start()
            wait_clean_slate(ctx, 150)
            # warm-up: traffic visible in Prometheus, then a few seconds of healthy windows
            deadline = time.time() + 60
            while time.time() < deadline and not prom.query('sum(rate(http_requests_total{job="backend"}[5s])) > 1'):
                time.sleep(0.5)
            time.sleep(8)
            watched = ctx.rules.names()
            rows, _first = sweep(ctx, knob, levels, args.hold, args.settle)
            locust.stop()
            locust = None
            results[knob] = rows
            if knob != knobs[-1]:
                log("waiting for alerts to resolve before the next knob")
                wait_clean_slate(ctx, 150)
    finally:
        if locust is not None:
            locust.stop()
        stack.down()
    path, page = report_tune.write(report_dir, intro, results, watched)
    print(path.read_text())
    log(f"report: {path} and {page} ({time.time() - t_run:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
