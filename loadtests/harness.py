"""Alert verification: prove that exactly the right alerts fire, reach the right receivers and
resolve, under real load, against the real Prometheus and Alertmanager.

    python -m loadtests.harness                 # the full catalogue (`make verify-alerts`)
    python -m loadtests.harness --short         # steady, slow_api; with --topology ha: ha_monitoring_loss (both in `make test`)
    python -m loadtests.harness --scenarios steady,redis_outage
    python -m loadtests.harness --rules-dir DIR # judge a modified copy of the rules (self-check)
    python -m loadtests.harness --topology ha   # the HA proofs on the HA topology (`make verify-alerts TOPOLOGY=ha`)

It brings up the native stack with the fast alert profile (infra/local/stack.py, own data folder
and free ports, see loadtests/stack_control.py), then for each scenario: waits for a clean slate,
starts Locust as its own process, injects the fault, polls Prometheus and Alertmanager with
deadlines, removes the fault, waits for resolution, stops Locust and judges (loadtests/verdict.py).
A report (Markdown + PNG timelines) goes to loadtests/reports/<timestamp>/. The stack is stopped
at the end, also on failure or Ctrl-C. Exit code 0 only when every check passed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from infra.local.stack import Stack
from infra.testkit import Alertmanager, Capture, Faults, Prometheus, fault_routes, wait_until
from loadtests import catalogue, dashboards, ha_checks, outbox, report, run_failures
from loadtests.catalogue import Expect, Scenario
from loadtests.locust_process import LocustProcess
from loadtests.rules import Formula, RuleSet, acceptance_bound, formula_of, from_prometheus, parse_duration
from loadtests.stack_control import ROOT, data_dir, frontend_built, harness_stack
from loadtests.verdict import (AlertRecorder, Delivery, Observed, PromTiming, Track, evaluate, parse_deliveries,
                               unbroken_hold_start)

POLL_S = 0.5
WARMUP_S = 8.0  # traffic before the fault, once Prometheus sees it
FIRE_SLACK_S = 20.0  # beyond the largest acceptance bound, before "did not fire" (failures stay visible)
DELIVERY_WAIT_S = 15.0  # after firing, for Alertmanager's notification to arrive
RESOLVE_BUDGET_S = 150.0  # after the fault ends (the 6x page's 30m short window is 90 s in fast)
CLEAN_SLATE_S = 120.0
REPORTS = ROOT / "loadtests" / "reports"


def log(msg: str) -> None:
    print(f"[harness {time.strftime('%H:%M:%S')}] {msg}", flush=True)


@dataclass
class Context:
    env: dict[str, str]
    prom: Prometheus
    am: Alertmanager
    capture: Capture
    faults: Faults
    stack: Stack
    rules: RuleSet
    report_dir: Path
    run_started: float
    with_frontend: bool
    sticky: set[str] = field(default_factory=set)  # alerts allowed to stay firing across scenarios
    accounts_file: Path | None = None
    first_sample_at: float | None = None
    fault_panel_checks: dict[str, dashboards.FillResult] = field(default_factory=dict)
    steady_rps: float | None = None  # backend requests/s measured in steady (the margin model's traffic)
    ignored: list[dict[str, str]] = field(default_factory=list)  # label sets left out of judgement
    topology: str = "single"  # infra/local/topology.py
    locust_workers: int = 0  # >0: Locust master + that many workers (--locust-workers)
    delivery_counts: list[ha_checks.DeliveryCounts] = field(default_factory=list)  # the HA proofs' counts
    ha_notes: list[str] = field(default_factory=list)  # measured failover times

    def ignore(self, *label_sets: dict[str, str], why: str) -> None:
        """Leave these series out of judgement, and silence them in Alertmanager so none is delivered."""
        for labels in label_sets:
            self.ignored.append(labels)
            self.am.silence(labels, comment=why)

    def ignored_alert(self, alert: dict) -> bool:
        labels = alert.get("labels", {})
        return any(all(labels.get(k) == v for k, v in m.items()) for m in self.ignored)


# --- observing ------------------------------------------------------------------------------------


def tick(ctx: Context, rec: AlertRecorder) -> None:
    prom_alerts = [a for a in ctx.prom.alerts() if not ctx.ignored_alert(a)]
    try:
        am_alerts = ctx.am.alerts()
    except Exception:  # noqa: BLE001 - inhibition info is a bonus; Prometheus is the judge
        am_alerts = []
    rec.observe(time.time(), prom_alerts, am_alerts)


def deliveries(ctx: Context, since_seq: int) -> list[Delivery]:
    items = ctx.capture.captured(since=since_seq)
    return parse_deliveries(items, ctx.rules.names())


def expectation_met(e: Expect, tr: Track | None, ds: list[Delivery], t_fault: float) -> bool:
    if tr is None or not tr.fired:
        return False
    if tr.carried or tr.inhibited_by:
        return True
    return all(any(d.receiver == r and e.alert in d.alerts and d.status == "firing" and d.at >= t_fault for d in ds)
               for r in e.receivers)


def wait_clean_slate(ctx: Context, timeout: float = CLEAN_SLATE_S) -> None:
    """No alert pending or firing, except those declared to outlast their scenario."""
    def clean() -> bool:
        active = {a["labels"]["alertname"] for a in ctx.prom.alerts()
                  if a.get("state") in ("pending", "firing") and not ctx.ignored_alert(a)}
        return not (active - ctx.sticky)
    try:
        wait_until(clean, timeout, POLL_S, what="clean slate")
    except TimeoutError:
        active = sorted({a["labels"]["alertname"] for a in ctx.prom.alerts() if not ctx.ignored_alert(a)} - ctx.sticky)
        log(f"alerts still active after {timeout:.0f}s: {active} (the next scenario will judge them)")


def data_age(ctx: Context) -> float | None:
    return time.time() - ctx.first_sample_at if ctx.first_sample_at else None


# --- faults ---------------------------------------------------------------------------------------


def inject(ctx: Context, sc: Scenario) -> None:
    log(f"fault on: {sc.fault.on(ctx)}")


def clear(ctx: Context, sc: Scenario) -> None:
    t0 = time.monotonic()
    sc.fault.off(ctx)
    log(f"fault off ({time.monotonic() - t0:.1f}s)")


# --- one scenario ---------------------------------------------------------------------------------


def run_scenario(ctx: Context, sc: Scenario, panels_by_fault: dict[str, list[dashboards.Panel]],
                 steady_seconds: float | None) -> report.ScenarioRecord:
    log(f"--- {sc.name}: {sc.description}")
    wait_clean_slate(ctx)
    since_seq = ctx.capture.last_seq()
    rules = ctx.rules
    bounds = [acceptance_bound(rules[e.alert], e.fill, rules, None) for e in sc.expect if e.alert in rules]
    fire_deadline_s = (max(bounds) if bounds else 0) + FIRE_SLACK_S
    budget = int(60 + fire_deadline_s + DELIVERY_WAIT_S + RESOLVE_BUDGET_S + (steady_seconds or sc.steady_seconds))
    locust = LocustProcess(ctx.env["BACKEND_URL"], sc.users, sc.user_classes, budget,
                           ctx.report_dir / "locust" / sc.name,
                           ctx.env.get("FRONTEND_URL", "") if ctx.with_frontend else "", ctx.accounts_file,
                           workers=ctx.locust_workers)
    rec = AlertRecorder()
    started = time.time()
    locust.start()
    extra_failures: list[str] = []
    t_clear: float | None = None
    t_switch_off: float | None = None  # when switching the fault off began (a restart may follow)
    rotation: list[tuple[float, set[str] | None]] = []  # (time, the balancer's instances in rotation)
    try:
        # warm-up: Prometheus must see the traffic before the fault (ratios need a denominator)
        def traffic() -> bool:
            tick(ctx, rec)
            if not locust.running():
                raise RuntimeError(f"Locust exited early, see {locust.csv_prefix}.log")
            r = ctx.prom.query('sum(rate(http_requests_total{job="backend"}[5s]))')
            return bool(r) and float(r[0]["value"][1]) > 1.0 and time.time() - started >= WARMUP_S
        wait_until(traffic, 60, POLL_S, what="traffic visible in Prometheus")
        r = ctx.prom.query('sum(rate(http_requests_total{job="backend"}[5s]))')
        rps_at_fault = float(r[0]["value"][1]) if r else None
        t_fault = time.time()
        inject(ctx, sc)
        if not sc.expect:
            end = t_fault + (steady_seconds if steady_seconds is not None else sc.steady_seconds)
            while time.time() < end:
                tick(ctx, rec)
                time.sleep(POLL_S)
        else:
            deadline, all_fired = t_fault + fire_deadline_s, False
            while time.time() < deadline:
                tick(ctx, rec)
                if ctx.topology == "ha":
                    rotation.append((time.time(), sample_rotation(ctx)))
                ds = deliveries(ctx, since_seq)
                if all(expectation_met(e, rec.tracks.get(e.alert), ds, t_fault) for e in sc.expect):
                    break
                if not all_fired and all(rec.tracks.get(e.alert) and rec.tracks[e.alert].fired for e in sc.expect):
                    all_fired, deadline = True, time.time() + DELIVERY_WAIT_S  # now only deliveries are awaited
                time.sleep(POLL_S)
            for scen, panels in panels_by_fault.items():
                if scen == sc.name and panels:
                    ctx.fault_panel_checks[sc.name] = dashboards.check(ctx.prom.query, panels)
            t_switch_off = time.time()
            clear(ctx, sc)
            t_clear = time.time()
            # alerts allowed alongside must resolve too, unless they are slow-burn ones already carried
            must_resolve = ({e.alert for e in sc.expect if e.resolves} | set(sc.may_fire)) - ctx.sticky
            end = t_clear + RESOLVE_BUDGET_S
            while time.time() < end:
                tick(ctx, rec)
                active = rec.active_names()
                if not (active & must_resolve) and not (active - ctx.sticky - {e.alert for e in sc.expect if not e.resolves}):
                    break
                time.sleep(POLL_S)
        if "outbox_exactly_once" in sc.checks:
            extra_failures += check_outbox(ctx)
        if "instances_stay_in_rotation" in sc.checks:
            extra_failures += check_rotation(ctx, sc, [r for _, r in rotation])
        if ctx.topology == "ha" and isinstance(sc.fault, catalogue.KillProcesses):
            note_failover(ctx, sc, rotation, t_fault)
        if "one_page_per_incident" in sc.checks:
            extra_failures += check_one_page(ctx, sc, rec, since_seq, t_switch_off or time.time())
    finally:
        if sc.fault.kind != "none" and t_clear is None:
            try:
                clear(ctx, sc)
            except Exception as exc:  # noqa: BLE001 - the stack goes down anyway
                log(f"could not clear the fault: {exc}")
        locust.stop()
    ended = time.time()
    stats = locust.stats()
    timing = {}
    for e in sc.expect:
        tr = rec.tracks.get(e.alert)
        if tr and tr.first_firing is not None:
            timing[e.alert] = prom_timing(ctx, e, t_fault, ended)
    if not sc.expect and sc.fault.kind == "none":
        ctx.steady_rps = measured_rps(ctx, t_fault, ended)
    obs = Observed(rec.tracks, deliveries(ctx, since_seq), t_fault, t_clear, ended, data_age_s=data_age(ctx),
                   rps_at_fault=rps_at_fault, timing=timing,
                   margins=measured_margins(ctx, sc, rec, t_fault, t_clear or ended, ended),
                   steady_rps=ctx.steady_rps, locust_requests=stats.requests,
                   locust_failures=stats.failures, extra_failures=extra_failures)
    verdict = evaluate(sc, rules, obs)
    for e in sc.expect:
        if not e.resolves:
            ctx.sticky.add(e.alert)
    # an alert that fired where it must not has failed the run already: later scenarios do not wait
    # for it to resolve (it may never, e.g. a rule broken to fire in steady) and treat it as carried
    ctx.sticky |= {a.alert for a in verdict.alerts if a.note == "UNEXPECTED"}
    record = report.ScenarioRecord(sc.name, sc.description, sc.fault.describe(), started, t_fault, t_clear, ended,
                                   verdict, report.fetch_series(ctx.prom.query_range, started, ended), rec.samples,
                                   {"requests": stats.requests, "failures": stats.failures, "rps": stats.rps,
                                    "failures_by_name": stats.failures_by_name})
    png = ctx.report_dir / f"{sc.name}.png"
    try:
        report.plot(record, png)
        record.png = png.name
    except Exception as exc:  # noqa: BLE001 - a plotting problem must not hide the verdict
        log(f"plot failed: {exc}")
    status = "ok" if verdict.ok else "FAIL"
    log(f"{sc.name}: {status} in {ended - started:.0f}s; {stats.requests} requests, {stats.failures} failed")
    for a in verdict.alerts:
        log(f"  {a.alert:30s} fired +{a.latency_s if a.latency_s is not None else '–'}s "
            f"(held from +{a.measured_fill_s}s [expr +{a.expr_held_s}s], min {a.theoretical_min_s}, "
            f"model {a.model_min_s}, bound {a.bound_s}; level/threshold measured {a.measured_margin}, "
            f"model {a.model_margin}) {a.receivers} {a.note}")
    if verdict.silent_margins:
        log("  silent, peak level/threshold: " + ", ".join(f"{n} {m:.2f}" for n, m in verdict.silent_margins.items()))
    for f in verdict.failures:
        log(f"  FAIL {f}")
    return record


def check_outbox(ctx: Context) -> list[str]:
    """After recovery every business event is delivered once: poll until the outbox drains."""
    db = ctx.env["DATABASE_URL"]
    try:
        wait_until(lambda: all(d for _, d in outbox.outbox_rows(db, ctx.run_started)), 60, 1.0, what="outbox drained")
    except TimeoutError:
        pass  # compare() reports what is left
    result = outbox.compare(outbox.outbox_rows(db, ctx.run_started), ctx.capture.captured(kind="mixpanel"))
    log(f"outbox: {result.events} events since the run began; undelivered {len(result.undelivered)}, "
        f"missing {len(result.missing)}, duplicated {len(result.duplicated)}")
    if result.events == 0:
        return ["no business events were written during the run (the outbox check proves nothing)"]
    return result.failures()


# --- the HA topology (infra/local/topology.py): its readiness and its delivery proofs ----------------


def check_one_page(ctx: Context, sc: Scenario, rec: AlertRecorder, since_seq: int, t_switch_off: float) -> list[str]:
    """Each expected alert notified at most once per receiver (PagerDuty: per group) and never
    resolved while the fault was on (loadtests/ha_checks.py). The fault counts as on until
    switching it off *began* (t_switch_off): switching off may restart instances, and what
    Alertmanager sends while they come back is the recovery, not the incident."""
    carried = {n for n, tr in rec.tracks.items() if tr.carried}
    counts = ha_checks.count(sc, ctx.capture.captured(since=since_seq), ctx.rules.names(), t_switch_off, carried)
    ctx.delivery_counts.append(counts)
    for line in counts.lines():
        log(f"  deliveries {line}")
    return counts.failures


def sample_rotation(ctx: Context) -> set[str] | None:
    try:
        return ctx.stack.ha.in_rotation()
    except Exception:  # noqa: BLE001 - a failed poll is no sample
        return None


def note_failover(ctx: Context, sc: Scenario, samples: list[tuple[float, set[str] | None]], t_fault: float) -> None:
    """How long after the kill the balancer had taken each killed instance out of rotation."""
    for name in (n for n in sc.fault.kill if n.startswith("backend-")):
        out = next((t for t, r in samples if r is not None and name not in r), None)
        line = (f"{sc.name}: {name} out of HAProxy's rotation {out - t_fault:.1f}s after the SIGKILL"
                if out is not None else f"{sc.name}: {name} never left the rotation while sampled")
        ctx.ha_notes.append(line)
        log(f"  {line}")


def check_rotation(ctx: Context, sc: Scenario, samples: list[set[str] | None]) -> list[str]:
    """Every sample of the fault window had every instance in rotation (a dependency the API
    degrades around must not make the balancer pull instances)."""
    taken = [s for s in samples if s is not None]
    pulled = [sorted({"backend-a", "backend-b"} - s) for s in taken if s != {"backend-a", "backend-b"}]
    log(f"  rotation: {len(taken)} samples during the fault, {len(pulled)} with an instance out {pulled[:3]}")
    if not taken:
        return [f"{sc.name}: the balancer's rotation was never sampled"]
    return [f"{sc.name}: the balancer pulled {pulled[0]} during the fault ({len(pulled)}/{len(taken)} samples)"] if pulled else []


def wait_ha(ctx: Context) -> None:
    """Both replicas scrape both instances, both members see each other, both instances in rotation."""
    for url in ctx.env["PROMETHEUS_URLS"].split(","):
        prom = Prometheus(url)
        wait_until(lambda p=prom: len(p.query('up{job="backend"} == 1')) == 2, 90, POLL_S,
                   what=f"{url} to scrape both backend instances")
    for url in ctx.env["ALERTMANAGER_URLS"].split(","):
        am = Alertmanager(url)
        wait_until(lambda a=am: len((a.status().get("cluster") or {}).get("peers") or []) == 2, 90, POLL_S,
                   what=f"{url} to see both cluster members")
    wait_until(lambda: ctx.stack.ha.in_rotation() == {"backend-a", "backend-b"}, 90, POLL_S,
               what="the balancer to have both instances in rotation")
    make_b_the_sender(ctx)


def cluster_sender(ctx: Context) -> str:
    """The member at cluster position 0, the one that notifies first ("a" | "b"): Alertmanager
    orders members by their peer names, ULIDs created at start, so the older member sends."""
    names = {}
    for member, url in zip("ab", ctx.env["ALERTMANAGER_URLS"].split(","), strict=True):
        names[member] = Alertmanager(url).status()["cluster"]["name"]
    return min(names, key=names.get)


def make_b_the_sender(ctx: Context) -> None:
    """ha_monitoring_loss kills member b with replica b (the replica that scrapes it): b must be
    the sender then, so the proof covers the failover of notifications. A restart of member a
    gives it a newer name and hands position 0 to b."""
    if cluster_sender(ctx) != "b":
        ctx.stack.stop_process("alertmanager-a")
        ctx.stack.restart_process("alertmanager-a")
        am = Alertmanager(ctx.env["ALERTMANAGER_URL"])
        wait_until(lambda: len((am.status().get("cluster") or {}).get("peers") or []) == 2, 90, POLL_S,
                   what="alertmanager-a to rejoin the cluster")
    sender = cluster_sender(ctx)
    log(f"Alertmanager cluster: member {sender} sends (position 0), the other waits "
        f"{ctx.stack.ha.peer_timeout()} per position")


def write_ha_proofs(ctx: Context) -> str | None:
    """The delivery counts of the HA scenarios, beside the report (its header links it)."""
    if not ctx.delivery_counts and not ctx.ha_notes:
        return None
    lines = ["# HA delivery proofs", "", "Counted at the capture server from the scenario's start to the "
             "fault's end (loadtests/ha_checks.py).", "", *ha_checks.TABLE_HEADER]
    for c in ctx.delivery_counts:
        lines += c.lines()
    lines += ["", *[f"- {n}" for n in ctx.ha_notes]]
    (ctx.report_dir / "ha-proofs.md").write_text("\n".join(lines) + "\n")
    return "ha-proofs.md"


# --- the run --------------------------------------------------------------------------------------


def override_rules(prom: Prometheus, rules_dir: Path) -> None:
    """Point the running Prometheus at a copy of rule files (the self-check), then reload."""
    flags = prom._data("/api/v1/status/flags")
    config_path = Path(flags["config.file"])
    if data_dir().resolve() not in config_path.resolve().parents:
        raise SystemExit(f"refusing to rewrite {config_path}: not in the harness's data folder")
    target = data_dir() / "rules-override"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(rules_dir, target)
    config = yaml.safe_load(config_path.read_text())
    config["rule_files"] = [str(p) for p in sorted(target.glob("*.y*ml"))]
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    prom.reload()
    wanted = {p.name for p in target.glob("*.y*ml")}
    wait_until(lambda: {Path(g["file"]).name for g in prom.rule_groups()} <= wanted and prom.rule_groups(), 30,
               what="Prometheus loaded the override rules")
    log(f"rules overridden from {rules_dir}")


def connect(env: dict[str, str], stack: Stack, report_dir: Path, run_started: float, with_frontend: bool, *,
            runner: str, rules_dir: Path | None = None, **options) -> Context:
    """A Context on a started stack (harness, tune, capacity): clients from its environment, the rules
    its Prometheus loaded (rules_dir: replaced first), the frontend's series silenced without it."""
    prom = Prometheus(env["PROMETHEUS_URL"])
    if rules_dir:
        override_rules(prom, rules_dir)
    ctx = Context(env, prom, Alertmanager(env["ALERTMANAGER_URL"]), Capture(env["CAPTURE_URL"]),
                  Faults(env["BACKEND_URL"]), stack, load_rules(prom), report_dir, run_started, with_frontend,
                  **options)
    if not with_frontend:
        ctx.ignore({"job": "nextjs"}, {"service": "frontend"}, why=f"{runner} runs without the frontend")
    return ctx


def load_rules(prom: Prometheus) -> RuleSet:
    cfg = yaml.safe_load(prom.config()).get("global", {})
    return from_prometheus(prom.rule_groups(), parse_duration(cfg.get("scrape_interval", "1m")),
                           parse_duration(cfg.get("evaluation_interval", "1m")))


def create_accounts(ctx: Context, n: int = 16) -> Path:
    """Existing customers for the read-heavy users, signed up one at a time (argon2 is CPU-heavy:
    16 sign-ups at once would queue for seconds and spend the latency SLO before any scenario)."""
    import httpx  # noqa: PLC0415

    accounts = []
    with httpx.Client(base_url=ctx.env["BACKEND_URL"], timeout=30) as http:
        for i in range(n):
            email = f"lt-customer-{int(ctx.run_started)}-{i}@loadtest.example.test"
            resp = http.post("/api/auth/signup", json={"email": email, "password": "loadtest-password-1",
                                                       "name": f"Customer {i}"})
            resp.raise_for_status()
            accounts.append({"email": email, "token": resp.json()["token"]})
    path = ctx.report_dir / "accounts.json"
    path.write_text(json.dumps(accounts))
    return path


def _selector(alert: str, labels: dict[str, str], state: str) -> str:
    matchers = [f'alertname="{alert}"', f'alertstate="{state}"'] + [f'{k}="{v}"' for k, v in sorted(labels.items())]
    return "ALERTS{" + ",".join(matchers) + "}"


def prom_timing(ctx: Context, e: Expect, t_fault: float, t_end: float) -> PromTiming:
    """Prometheus' own timestamps of the alert's first firing after the fault: the evaluation that
    first wrote ALERTS{alertstate="firing"} (raw samples), the start of the unbroken pending run
    before it in ALERTS (the episode's activeAt, used when the polls did not see activeAt), and the
    start of the unbroken run of evaluations of the rule's expression that ended in the firing
    (query_range, step = evaluation interval)."""
    step = ctx.rules.eval_interval_s
    span = max(1, int(t_end - t_fault + 5))
    fired_at = active_at = held_from = None
    try:
        firing = ctx.prom.query(f"{_selector(e.alert, e.labels, 'firing')}[{span}s]", at=t_end)
        fired_at = min((float(t) for series in firing for t, _ in series.get("values", []) if float(t) >= t_fault - step),
                       default=None)
        if fired_at is not None:
            pending = ctx.prom.query(f"{_selector(e.alert, e.labels, 'pending')}[{span}s]", at=t_end)
            times = [float(t) for series in pending for t, _ in series.get("values", [])]
            active_at = unbroken_hold_start(times + [fired_at], fired_at, step)
            rule = ctx.rules.alerts.get(e.alert)
            if rule is not None:
                # one step past the firing: query_range's steps need not fall on evaluation times
                result = ctx.prom.query_range(rule.expr, t_fault - step, fired_at + step, step)
                held = sorted({float(t) for series in result for t, _ in series.get("values", [])
                               if all(series.get("metric", {}).get(k) == v for k, v in e.labels.items())})
                held_from = unbroken_hold_start(held, fired_at + step, step)
    except Exception as exc:  # noqa: BLE001 - the verdict then falls back to the polled activeAt
        log(f"reading Prometheus' timestamps for {e.alert} failed: {type(exc).__name__}: {exc}")
    return PromTiming(active_at, fired_at, held_from)


def measured_rps(ctx: Context, start: float, end: float) -> float | None:
    span = max(1, int(end - start))
    r = ctx.prom.query(f'sum(increase(http_requests_total{{job="backend"}}[{span}s])) / {span}', at=end)
    return round(float(r[0]["value"][1]), 2) if r else None


def level_ratios(ctx: Context, name: str, formula: Formula, start: float, end: float, step: float,
                 log: Callable[[str], None] = log) -> dict[float, dict] | None:
    """Per query_range timestamp, each comparison's left-hand side over its threshold: what
    `formula.level` combines (rules.formula_of). None, said in the log, when Prometheus could not
    answer: a missing level must not hide the verdict (harness margins, capacity peak levels)."""
    ratios: dict[float, dict] = {}
    try:
        for cmp in set(formula.leaves()):
            for series in ctx.prom.query_range(f"max({cmp.lhs})", start, end, step):
                for t, v in series.get("values", []):
                    if v not in ("NaN", "+Inf", "-Inf"):
                        ratios.setdefault(float(t), {})[cmp] = float(v) / cmp.threshold
    except Exception as exc:  # noqa: BLE001 - a missing level must not hide the verdict
        log(f"measuring the level of {name} failed: {type(exc).__name__}: {exc}")
        return None
    return ratios


def measured_margins(ctx: Context, sc: Scenario, rec: AlertRecorder, t_fault: float, t_clear: float,
                     t_end: float) -> dict[str, float]:
    """Per rule whose expression compares with constants: how far past (above 1) or below its
    thresholds the rule was, from query_range of each comparison's left-hand side combined as the
    expression combines them (`and`: the smallest, `or`: the largest; rules.formula_of). Expected
    alerts: the median from their firing to the fault's end; every other alert: the peak over
    the scenario. Binary rules (`up == 0`, a new series) are left out."""
    step = ctx.rules.eval_interval_s
    out = {}
    for name, rule in ctx.rules.alerts.items():
        formula = formula_of(rule.expr)
        tr = rec.tracks.get(name)
        if formula is None or name in sc.may_fire or (tr is not None and tr.carried):
            continue
        expected = name in sc.expected_names
        start = tr.first_firing if expected and tr and tr.first_firing else t_fault
        end = t_clear if expected else t_end
        if end <= start:
            continue
        ratios = level_ratios(ctx, name, formula, start, end, step)
        if ratios is None:
            continue
        levels = sorted(formula.level(r) for r in ratios.values()) or [0.0]
        out[name] = round(levels[len(levels) // 2] if expected else levels[-1], 2)
    return out


def wait_targets(ctx: Context) -> None:
    """The first samples of new targets take a few seconds: poll for data, not for /-/ready."""
    jobs = ["backend"] + (["nextjs"] if ctx.with_frontend else [])
    for job in jobs:
        wait_until(lambda j=job: ctx.prom.query(f'up{{job="{j}"}} == 1'), 60, POLL_S, what=f"{job} scraped")
    wait_until(lambda: ctx.prom.query("app_info"), 60, POLL_S, what="backend app metrics")
    r = ctx.prom.query("min(prometheus_tsdb_lowest_timestamp_seconds)")
    ctx.first_sample_at = float(r[0]["value"][1]) if r else time.time()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help=f"only {', '.join(catalogue.SHORT)}")
    parser.add_argument("--scenarios", help="comma-separated scenario names (catalogue order is kept)")
    parser.add_argument("--rules-dir", type=Path, help="load these rule files instead (break-a-rule self-check)")
    parser.add_argument("--steady-seconds", type=float, help="override how long steady runs")
    parser.add_argument("--no-frontend", action="store_true",
                        help="do not start the frontend (its scrape-failure alerts are then left out)")
    parser.add_argument("--report-dir", type=Path)
    parser.add_argument("--no-dashboards", action="store_true", help="do not draw each scenario's dashboards (--short never does: make test's time)")
    parser.add_argument("--topology", choices=["single", "ha"], default=os.environ.get("TOPOLOGY") or "single",
                        help="the stack topology (infra/local/topology.py); without --scenarios: its scenarios")
    parser.add_argument("--locust-workers", type=int, default=int(os.environ.get("LOCUST_WORKERS") or 0),
                        help="drive the load with a Locust master and N workers (default: one process)")
    args = parser.parse_args(argv)
    if not fault_routes.kept():  # the scenarios inject faults and the stack has no /_faults to take them
        log(f"skipped: {fault_routes.REASON}")
        return 0

    scenarios = catalogue.select(args.scenarios.split(",") if args.scenarios else None, args.short, args.topology)
    with_frontend = not args.no_frontend
    if with_frontend and not frontend_built():
        log("frontend/.next is missing (run `make build`): running without the frontend")
        with_frontend = False
    report_dir = args.report_dir or REPORTS / report.stamp()
    report_dir.mkdir(parents=True, exist_ok=True)

    run_failures.interrupt_on_sigterm()

    t_run = time.time()
    small_pg = [s.postgres_max_connections for s in scenarios if s.postgres_max_connections]
    stack = harness_stack(with_frontend, log=lambda m: print(m, flush=True), topology=args.topology,
                          postgres_max_connections=min(small_pg) if small_pg else None)
    records: list[report.ScenarioRecord] = []
    failures: list[str] = []
    dash_lines: list[str] = []
    try:
        ctx = connect(stack.up(), stack, report_dir, t_run, with_frontend, runner="the harness",
                      rules_dir=args.rules_dir, topology=args.topology, locust_workers=args.locust_workers)
        env, prom = ctx.env, ctx.prom
        unknown = sorted({e.alert for s in scenarios for e in s.expect} - set(ctx.rules.names()))
        if unknown:
            failures.append(f"the catalogue names alerts Prometheus has not loaded: {', '.join(unknown)}")
        ctx.faults.clear()  # a clean fault state (also proves the admin route is there)
        wait_targets(ctx)
        if ctx.topology == "ha":
            wait_ha(ctx)
        ctx.accounts_file = create_accounts(ctx)
        panels = dashboards.all_panels()
        by_fault: dict[str, list[dashboards.Panel]] = {}
        for p in panels:
            if p.requires_fault:
                by_fault.setdefault(p.requires_fault, []).append(p)
        for sc in scenarios:
            rec = run_scenario(ctx, sc, by_fault, args.steady_seconds)
            records.append(rec)
            failures += rec.verdict.failures
            if "dashboards_fill" in sc.checks:
                steady_panels = [p for p in panels if not p.requires_fault
                                 and (with_frontend or "nextjs_" not in " ".join(p.exprs))]
                res = dashboards.check(prom.query, steady_panels, at=rec.t_fault + (rec.ended - rec.t_fault) * 0.9)
                dash_lines.append(f"after steady: {len(res.checked)} panels checked, {len(res.empty)} empty")
                dash_lines += [f"EMPTY: {e}" for e in res.empty]
                if res.failure():
                    failures.append(f"steady: {res.failure()}")
        ran = {s.name for s in scenarios}
        for scen, plist in by_fault.items():
            if scen in ctx.fault_panel_checks:
                res = ctx.fault_panel_checks[scen]
                dash_lines.append(f"during {scen}: {len(res.checked)} fault panels checked, {len(res.empty)} empty")
                dash_lines += [f"EMPTY: {e}" for e in res.empty]
                if res.failure():
                    failures.append(f"{scen}: {res.failure()}")
            else:
                why = "not run" if scen not in ran else "no fault window"
                dash_lines.append(f"not checked ({scen} {why}): " + "; ".join(p.label for p in plist))
    except (KeyboardInterrupt, Exception) as exc:  # noqa: BLE001 - report, then stop the stack
        run_failures.record(failures, "harness", exc)
    finally:
        if records and not (args.no_dashboards or args.short):  # each scenario's dashboards at its fault (report.py)
            report.render_scenario_dashboards(stack.env.get("PROMETHEUS_URL", ""), records, report_dir, log)
        stack.down()
    elapsed = time.time() - t_run
    header = {"started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t_run)),
              "total time": f"{elapsed:.0f}s", "scenarios": ", ".join(s.name for s in scenarios),
              "profile": f"{stack.profile.name} ({stack.profile.scrape_interval} scrape/{stack.profile.evaluation_interval} evaluation)", "frontend": "yes" if with_frontend else "no",
              "rules": str(args.rules_dir) if args.rules_dir else "monitoring/ (as generated)",
              "topology": args.topology}
    if "ctx" in locals() and (proofs := write_ha_proofs(ctx)):
        header["HA delivery proofs"] = proofs
    path = report.write(report_dir, records, header, dash_lines, failures)
    log(f"report: {path}")
    log(f"total {elapsed:.0f}s: {'PASS' if not failures else 'FAIL'}")
    for f in failures:
        log(f"FAIL {f}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
