"""How much real traffic can we take, what breaks first, and which alert tells us? A capacity ramp.

    python -m loadtests.capacity                  # the default ramp (`make capacity`, < 15 min)
    python -m loadtests.capacity --steps 10,20,40 --step-seconds 30
    python -m loadtests.capacity --short          # two tiny steps, never stopped early: the report's structure (make test)

Brings up the production-like stack (infra/local Stack: gunicorn with the production worker count,
the production alert rules on the fast time scale, no fault injection, no frontend; own data folder
.data/capacity, free ports, own database and Redis DB), then steps Locust users up (the harness'
journeys, loadtests/capacity_locustfile.py) until a stop condition:
- p95 of the latency SLO's routes above 1 s over a whole step;
- the error ratio of a step above the availability budget (0.1%);
- a page (a critical alert) firing;
- the last step (`--steps`) or the time budget (`--budget`).
Per step: offered and achieved req/s, p50/p95/p99, latency SLI and error ratio, backend CPU,
machine CPU, DB pool, requests in flight, PostgreSQL and Redis server-side figures
(loadtests/capacity_sampler.py) and every alert pending or firing (Prometheus, polled each second).
The judgement is loadtests/capacity_analysis.py; the report (Markdown + HTML + PNGs, dashboards
over the ramp) is loadtests/report_capacity.py. Loopback only; stops by itself; the stack goes
down at the end, also on failure, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from infra.local.services import Ports
from infra.local.stack import Stack, down
from infra.testkit import Prometheus, wait_until
from infra.product import PRODUCT
from loadtests import capacity_analysis as ca
from loadtests import report, run_failures
from loadtests.harness import (Context, connect, create_accounts, level_ratios, tick, wait_clean_slate,
                               wait_targets)
from loadtests.locust_process import LOCUST, LocustProcess
from loadtests.rules import formula_of
from loadtests.capacity_sampler import Sampler
from loadtests.stack_control import ROOT
from loadtests.verdict import AlertRecorder
from monitoring.profiles import FAST

LOCUSTFILE = ROOT / "loadtests" / "capacity_locustfile.py"
REPORTS = ROOT / "loadtests" / "reports"
PRODUCTION_WORKERS = 2  # WEB_CONCURRENCY of the production manifests (infra/k8s/app.py, docker-compose.yml)
DEFAULT_STEPS = [10, 20, 40, 60, 80, 100, 130, 160, 200, 250]
DEFAULT_STEP_S = 40.0
SHORT_STEPS = [2, 4]
SHORT_STEP_S = 12.0
SETTLE_S = 8.0  # the start of a step (spawning, sign-ups) is not measured
WARMUP_S, SHORT_WARMUP_S = 20.0, 5.0  # a cold backend's first requests (at 2 users/s) before the ramp
DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/" + PRODUCT.slug + "_capacity"
REDIS_URL = "redis://127.0.0.1:6379/12"
BACKEND_ENV = {
    "WEB_CONCURRENCY": str(PRODUCTION_WORKERS),
    "FAULT_INJECTION_ENABLED": "false",  # no fault: the ramp measures the product as it ships
    "RATE_LIMIT_AUTH_PER_MINUTE": "100000",  # every Locust user signs up from 127.0.0.1
    "SENTRY_PROFILES_SAMPLE_RATE": "0",
}
SLO_ROUTES = 'job="backend",route!~"/api/auth/.*"'  # as the latency SLO (catalogue.LATENCY_SLO_ROUTES)


def log(msg: str) -> None:
    print(f"[capacity {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def data_dir() -> Path:
    """Its own folder (never STACK_DATA_DIR: inside e2e that is the journeys' running stack)."""
    return Path(os.environ.get("CAPACITY_DATA_DIR", ROOT / ".data" / "capacity")).resolve()


def capacity_stack() -> Stack:
    data = data_dir()
    down(data)  # leftovers of an interrupted ramp in this folder only
    for sub in ("prometheus", "alertmanager"):
        shutil.rmtree(data / sub, ignore_errors=True)
    (data / "stack.env").unlink(missing_ok=True)
    return Stack(Ports.free(), FAST, data, with_frontend=False,
                 database_url=os.environ.get("CAPACITY_DATABASE_URL", DATABASE_URL),
                 redis_url=os.environ.get("CAPACITY_REDIS_URL", REDIS_URL),
                 backend_env=dict(BACKEND_ENV), log=lambda m: print(m, flush=True))


class RampLocust(LocustProcess):
    """LocustProcess with the stepped shape instead of a fixed user count (the shape sets users)."""

    def __init__(self, host: str, steps: list[int], step_s: float, spawn_rate: float, csv_prefix: Path,
                 events: Path, accounts_file: Path | None) -> None:
        super().__init__(host, max(steps), ("FunnelUser", "ReadHeavyUser"), int(len(steps) * step_s + 30),
                         csv_prefix, "", accounts_file)
        self.steps, self.step_s, self.spawn_rate, self.events = steps, step_s, spawn_rate, events

    def start(self) -> None:
        self.csv_prefix.parent.mkdir(parents=True, exist_ok=True)
        cmd = [str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "--host", self.host,
               "--run-time", f"{self.max_run_time_s}s", "--stop-timeout", "3", "--csv", str(self.csv_prefix),
               "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LOADTEST_FRONTEND_URL": "",
               "LOADTEST_ACCOUNTS_FILE": str(self.accounts_file or ""),
               "CAPACITY_STEPS": ",".join(map(str, self.steps)), "CAPACITY_STEP_SECONDS": str(self.step_s),
               "CAPACITY_SPAWN_RATE": str(self.spawn_rate), "CAPACITY_EVENTS": str(self.events)}
        out = open(self.csv_prefix.with_suffix(".log"), "wb")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def step_starts(self) -> list[dict]:
        if not self.events.exists():
            return []
        return [json.loads(line) for line in self.events.read_text().splitlines() if line.strip()]

    def history(self) -> list[dict]:
        """Locust's per-second aggregated statistics (stats_history.csv)."""
        path = Path(f"{self.csv_prefix}_stats_history.csv")
        if not path.exists():
            return []
        with path.open() as fh:
            return [row for row in csv.DictReader(fh) if row.get("Name") == "Aggregated"]


# --- measuring a step ------------------------------------------------------------------------------

def scalar(prom: Prometheus, expr: str, at: float) -> float | None:
    try:
        r = prom.query(expr, at=at)
    except Exception:  # noqa: BLE001 - a missing figure is "–" in the report
        return None
    if not r:
        return None
    v = float(r[0]["value"][1])
    return v if v == v and v not in (float("inf"), float("-inf")) else None


def client_window(rows: list[dict], start: float, end: float) -> dict:
    inside = [r for r in rows if start <= float(r["Timestamp"]) <= end + 1]
    if len(inside) < 2:
        return {}
    first, last = inside[0], inside[-1]
    req = int(last["Total Request Count"]) - int(first["Total Request Count"])
    fail = int(last["Total Failure Count"]) - int(first["Total Failure Count"])
    span = float(last["Timestamp"]) - float(first["Timestamp"])

    def ms(key: str) -> float | None:
        try:
            return float(last[key])
        except (KeyError, ValueError):
            return None
    return {"requests": req, "failures": fail, "rps": req / span if span > 0 else None,
            "failure_ratio": fail / req if req > 0 else None, "p50_ms": ms("50%"), "p95_ms": ms("95%"),
            "p99_ms": ms("99%")}


def measure(prom: Prometheus, sampler: Sampler, history: list[dict], index: int, users: int, start: float,
            end: float, workers: int) -> ca.Step:
    ws = min(start + SETTLE_S, start + (end - start) / 2)
    w = max(2, int(end - ws))
    step = ca.Step(index, users, start, end, ws)
    rng = f"[{w}s]"

    def q(expr: str) -> float | None:
        return scalar(prom, expr, end)
    step.achieved_rps = q(f'sum(increase(http_requests_total{{job="backend"}}{rng})) / {w}')
    for name, quant in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        setattr(step, name, q(f"histogram_quantile({quant}, sum by (le) "
                              f"(increase(http_request_duration_seconds_bucket{{{SLO_ROUTES}}}{rng})))"))
    step.slow_ratio = q(f'1 - sum(increase(http_request_duration_seconds_bucket{{{SLO_ROUTES},le=~"1|1.0"}}{rng}))'
                        f" / sum(increase(http_request_duration_seconds_count{{{SLO_ROUTES}}}{rng}))")
    server_errors = q(f'(sum(increase(http_requests_total{{job="backend",status_code=~"5.."}}{rng})) or vector(0))'
                      f' / sum(increase(http_requests_total{{job="backend"}}{rng}))')
    step.client = client_window(history, ws, end)
    ratios = [r for r in (server_errors, step.client.get("failure_ratio")) if r is not None]
    step.error_ratio = max(ratios) if ratios else None
    cpu = q(f'sum(rate(process_cpu_seconds_total{{job="backend"}}{rng}))')
    res = {
        "backend_cpu_cores": cpu,
        "backend_cpu_per_worker": cpu / workers if cpu is not None else None,
        "machine_cpu_busy": q(f'1 - avg(rate(node_cpu_seconds_total{{mode="idle"}}{rng}))'),
        "db_pool_utilisation_max": q(f'max(max_over_time(service:db_pool:utilisation_ratio{{service="backend"}}{rng}))'),
        "db_pool_utilisation_mean": q(f'avg(avg_over_time(service:db_pool:utilisation_ratio{{service="backend"}}{rng}))'),
        "inflight_per_worker": (lambda v: v / workers if v is not None else None)(
            q(f'max_over_time(sum(http_requests_in_progress{{job="backend"}})[{w}s:1s])')),
        "load1": q("node_load1"),
        # the exporters, when the stack runs them (monitoring-signals); None otherwise
        "pg_exporter_active": q('sum(pg_stat_activity_count{state="active"})'),
        "redis_exporter_ops": q(f"sum(rate(redis_commands_processed_total{rng}))"),
    }
    res.update(sampler.window(ws, end))
    step.resources = res
    return step


def offered(steps: list[ca.Step]) -> None:
    """Offered load = users x the per-user request rate of the lightest step (responses fast there):
    what these users would send if the backend kept up. Closed-loop users slow down with the backend,
    so achieved / offered below 1 is the backpressure users feel."""
    base = steps[0]
    rate = base.client.get("rps") or base.achieved_rps
    if not rate or not base.users:
        return
    for s in steps:
        s.offered_rps = rate / base.users * s.users


def peak_levels(ctx: Context, start: float, end: float) -> dict[str, float]:
    """Per rule with constant thresholds: the highest level / threshold over the ramp (rules.formula_of)."""
    out = {}
    for name, rule in ctx.rules.alerts.items():
        formula = formula_of(rule.expr)
        if formula is None:
            continue
        ratios = level_ratios(ctx, name, formula, start, end, 1.0, log=log)
        if ratios is None:
            continue
        levels = [formula.level(r) for r in ratios.values()]
        if levels:
            out[name] = round(max(levels), 2)
    return out


def warm_up(ctx: Context, users: int, hold_s: float, report_dir: Path) -> dict[str, float]:
    """The first step's users, started at the harness' 2 users/s, for `hold_s` once Prometheus sees
    traffic; then wait for every alert to resolve (slow-burn tickets excepted). A cold backend on a
    young Prometheus is not the ramp's first step: what fires here is reported apart.
    Returns the alerts that fired, with seconds from the warm-up's start."""
    locust = LocustProcess(ctx.env["BACKEND_URL"], users, ("FunnelUser", "ReadHeavyUser"), int(hold_s + 90),
                           report_dir / "locust" / "warmup", "", ctx.accounts_file)
    rec = AlertRecorder()
    t0 = time.time()
    locust.start()
    try:
        wait_until(lambda: (tick(ctx, rec) or True) and ctx.prom.query(
            'sum(rate(http_requests_total{job="backend"}[5s])) > 0.5'), 60, 0.5, what="warm-up traffic in Prometheus")
        end = time.time() + hold_s
        while time.time() < end:
            tick(ctx, rec)
            time.sleep(0.5)
    finally:
        locust.stop()
    wait_clean_slate(ctx, 120)
    return {n: round(tr.first_firing - t0, 1) for n, tr in rec.tracks.items() if tr.first_firing is not None}


# --- the ramp ------------------------------------------------------------------------------------

def ramp(ctx: Context, locust: RampLocust, sampler: Sampler, rec: AlertRecorder, steps_users: list[int],
         step_s: float, deadline: float, workers: int, stop_on_breach: bool = True) -> tuple[list[ca.Step], str]:
    measured: list[ca.Step] = []
    stop_reason = ""
    while True:
        tick(ctx, rec)
        now = time.time()
        starts = locust.step_starts()
        running = locust.running()
        # a step is complete when the next began, or the schedule's time for it passed (+2 s for the scrape)
        for i, ev in enumerate(starts):
            if i < len(measured):
                continue
            end = starts[i + 1]["t"] if i + 1 < len(starts) else ev["t"] + step_s
            if now < end + 2 and running:
                break
            cut = "" if now >= end else "the ramp stopped"
            step = measure(ctx.prom, sampler, locust.history(), ev["step"], ev["users"], ev["t"], min(end, now), workers)
            step.partial = cut
            measured.append(step)
            log(f"step {step.index + 1}: {step.users} users, {step.achieved_rps or 0:.1f} req/s, "
                f"p95 {step.p95 if step.p95 is not None else float('nan'):.3f}s, "
                f"slow {step.slow_ratio if step.slow_ratio is not None else float('nan'):.4f}, "
                f"errors {step.error_ratio if step.error_ratio is not None else float('nan'):.4f}, "
                f"cpu/worker {step.resources.get('backend_cpu_per_worker') or 0:.2f}, "
                f"machine {step.resources.get('machine_cpu_busy') or 0:.2f}"
                + ("" if step.slo_ok else f"  SLO broken: {step.breach()}"))
            if not stop_on_breach:
                continue
            if step.p95 is not None and step.p95 > ca.LATENCY_SLO_SECONDS:
                stop_reason = f"p95 {step.p95:.2f}s above the {ca.LATENCY_SLO_SECONDS:g}s latency SLO for a whole step"
            elif step.error_ratio is not None and step.error_ratio > ca.ERROR_BUDGET:
                stop_reason = f"error ratio {step.error_ratio:.2%} above the {ca.ERROR_BUDGET:.1%} availability budget"
        if not stop_reason and stop_on_breach:
            pages = sorted(n for n, tr in rec.tracks.items() if tr.first_firing is not None and not tr.carried
                           and ctx.rules.alerts.get(n) and ctx.rules.alerts[n].severity == "critical")
            if pages:
                stop_reason = f"a page fired: {', '.join(pages)}"
        if not stop_reason and len(measured) >= len(steps_users):
            stop_reason = f"the last step ({steps_users[-1]} users) was reached"
        if not stop_reason and time.time() > deadline:
            stop_reason = "the time budget ran out"
        if not stop_reason and not running and len(measured) >= len(starts):
            stop_reason = "Locust exited" + (f" (see {locust.csv_prefix}.log)" if len(measured) < len(steps_users) else "")
        if stop_reason:
            break
        time.sleep(1.0)
    if locust.running():
        t_stop = time.time()
        locust.stop()
        # a step cut short by the stop is measured up to the stop
        starts = locust.step_starts()
        if len(starts) > len(measured) and t_stop - starts[len(measured)]["t"] > SETTLE_S + 4:
            ev = starts[len(measured)]
            step = measure(ctx.prom, sampler, locust.history(), ev["step"], ev["users"], ev["t"], t_stop, workers)
            step.partial = f"cut short: {stop_reason}"
            measured.append(step)
    return measured, stop_reason


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", help=f"users per step, comma separated (default {','.join(map(str, DEFAULT_STEPS))})")
    parser.add_argument("--step-seconds", type=float, help=f"seconds per step (default {DEFAULT_STEP_S:g})")
    parser.add_argument("--spawn-rate", type=float, default=5.0, help="users started per second at a step change")
    parser.add_argument("--short", action="store_true", help="two tiny steps (the report's structure, in make test)")
    parser.add_argument("--budget", type=float, default=14 * 60, help="seconds for the whole run (default 14 min)")
    parser.add_argument("--accounts", type=int, help="existing customers for the read-heavy users (default 16, 4 short)")
    parser.add_argument("--no-stop", action="store_true",
                        help="run every step whatever breaks (--short always does: it checks structure, not numbers)")
    parser.add_argument("--no-dashboards", action="store_true", help="do not render the dashboards into the report")
    parser.add_argument("--report-dir", type=Path)
    args = parser.parse_args(argv)
    steps_users = ([int(x) for x in args.steps.split(",")] if args.steps
                   else SHORT_STEPS if args.short else DEFAULT_STEPS)
    step_s = args.step_seconds or (SHORT_STEP_S if args.short else DEFAULT_STEP_S)
    if any(u <= 0 for u in steps_users) or step_s < 5:
        parser.error("steps must be positive user counts and --step-seconds at least 5")
    if len(steps_users) * step_s + 120 > args.budget:
        parser.error(f"{len(steps_users)} steps of {step_s:g}s do not fit the {args.budget:g}s budget")
    report_dir = args.report_dir or REPORTS / f"capacity-{report.stamp()}"
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "locust").mkdir(exist_ok=True)

    run_failures.interrupt_on_sigterm()

    from loadtests import report_capacity  # noqa: PLC0415 - matplotlib only when a report is written

    t_run = time.time()
    deadline = t_run + args.budget - 60  # leave time for the report and the stack going down
    stack = capacity_stack()
    locust = sampler = None
    raw: dict = {"header": {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(t_run)),
                            "load average at the start": " ".join(f"{x:.2f}" for x in os.getloadavg())}}
    failures: list[str] = []
    try:
        ctx = connect(stack.up(), stack, report_dir, t_run, False, runner="the capacity ramp")
        env, prom = ctx.env, ctx.prom
        wait_targets(ctx)
        wait_until(lambda: prom.query('up{job="node-exporter"} == 1'), 60, 0.5, what="node-exporter scraped")
        ctx.accounts_file = create_accounts(ctx, args.accounts or (4 if args.short else 16))
        # slow-burn alerts (every arm reads a window over 30 min, fast profile) cannot resolve in a run
        ctx.sticky = {n for n, r in ctx.rules.alerts.items() if r.arms and all(max(w or (0,)) > 1800 for _, w in r.arms)}
        warm = warm_up(ctx, steps_users[0], SHORT_WARMUP_S if args.short else WARMUP_S, report_dir)
        raw["warmup"] = warm
        log(f"warm-up done; fired during it: {warm or 'nothing'}")
        locust = RampLocust(env["BACKEND_URL"], steps_users, step_s, args.spawn_rate,
                            report_dir / "locust" / "ramp", report_dir / "locust" / "steps.jsonl", ctx.accounts_file)
        rec = AlertRecorder()
        tick(ctx, rec)
        t_ramp = time.time()
        locust.start()
        sampler = Sampler(env["DATABASE_URL"], env["REDIS_URL"], stack.processes["backend"].pid, locust.proc.pid)
        sampler.start()
        log(f"ramp: {', '.join(map(str, steps_users))} users, {step_s:g}s each, {PRODUCTION_WORKERS} workers")
        # --short checks the report's structure: every step runs, whatever a loaded machine does to latency
        steps, stop_reason = ramp(ctx, locust, sampler, rec, steps_users, step_s, deadline, PRODUCTION_WORKERS,
                                  stop_on_breach=not (args.short or args.no_stop))
        t_end = time.time()
        sampler.stop()
        for _ in range(3):  # the alerts' state right after the stop
            tick(ctx, rec)
            time.sleep(1)
        log(f"stopped: {stop_reason}")
        if not steps:
            failures.append("no step was measured")
        else:
            offered(steps)
        levels = peak_levels(ctx, t_ramp, t_end)
        raw.update(
            steps=steps, stop_reason=stop_reason, alert_samples=rec.samples, t_ramp=t_ramp, t_end=t_end,
            sampler_errors=sampler.errors, limits={"machine_cpu_busy": 1.0},
            events=[ca.AlertEvent(name, rule.severity, bool(ca.LOAD_SIGNAL.search(rule.expr)),
                                  rec.tracks[name].first_pending if name in rec.tracks else None,
                                  rec.tracks[name].first_firing if name in rec.tracks else None,
                                  levels.get(name), name in rec.tracks and rec.tracks[name].carried,
                                  warm.get(name), ca.guards(rule.expr), " offset " in rule.expr)
                    for name, rule in sorted(ctx.rules.alerts.items())])
        raw["header"].update({
            "stack": f"gunicorn with {PRODUCTION_WORKERS} workers (production), fast alert profile "
                     f"({FAST.scrape_interval} scrape/{FAST.evaluation_interval} evaluation), no fault, no frontend",
            "warm-up": f"{steps_users[0]} users at 2 users/s for {SHORT_WARMUP_S if args.short else WARMUP_S:g}s, "
                       "then every alert resolved (slow-burn tickets excepted); fired during it: "
                       + (", ".join(f"{n} (+{t:.0f}s)" for n, t in sorted(warm.items())) or "nothing"),
            "ramp": f"{', '.join(map(str, steps_users))} users, {step_s:g}s per step "
                    f"(first {SETTLE_S:g}s of each not measured), spawn {args.spawn_rate:g} users/s",
            "journeys": "FunnelUser (weight 1) and ReadHeavyUser (weight 3) of loadtests/locustfile.py",
            "stopped because": stop_reason})
        if not args.no_dashboards:
            from monitoring.dashboards.render import render_dashboards  # noqa: PLC0415

            t0 = time.time()
            raw["dashboards"] = render_dashboards(env["PROMETHEUS_URL"], t_ramp, t_end, report_dir / "dashboards",
                                                  scrape=1.0, title=f"{PRODUCT.name} dashboards over the capacity ramp")
            log(f"dashboards: {len(raw['dashboards'])} panels in {time.time() - t0:.0f}s")
    except (KeyboardInterrupt, Exception) as exc:  # noqa: BLE001 - report, then stop the stack
        run_failures.record(failures, "capacity", exc)
    finally:
        if sampler is not None:
            sampler.stop()
        if locust is not None:
            locust.stop()
        stack.down()
    raw["failures"] = failures
    raw["header"]["total time"] = f"{time.time() - t_run:.0f}s"
    report_capacity.save(report_dir, raw)
    md, html_path = report_capacity.render(report_dir)
    print(md.read_text())
    log(f"report: {md} and {html_path}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
