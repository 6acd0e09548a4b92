"""The capacity ramp's report: capacity.md (the answer first, one sentence per alert), capacity.html
(the same, for a browser; loadtests/report_html.py) and the PNGs both reference:
- capacity-latency.png: offered load vs p50/p95/p99 and error ratio, SLO lines, the knee marked;
- capacity-alerts.png: every alert pending (yellow) or firing (red) over the ramp, steps marked;
- capacity-resources.png: utilisation of each resource per step;
- dashboards/: every committed dashboard panel over the ramp (monitoring.dashboards.render).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from infra.product import PRODUCT  # noqa: E402
from loadtests import capacity_analysis as ca  # noqa: E402
from loadtests.report import draw_alert_bands  # noqa: E402
from loadtests.report_html import panel_gallery, to_html  # noqa: E402
from monitoring.dashboards.render import PanelImage  # noqa: E402
from monitoring.profiles import FAST  # noqa: E402
from monitoring.rules.catalogue import all_alerts  # noqa: E402

SECTIONS = ("## The answer", "## Alerts", "## Steps", "## What saturated first", "## Would a saturation alert warn in time?",
            "## Plots", "## Dashboards over the ramp")


WHY_NO_NEW_RULE = (
    "No saturation alert was added to the rule catalogue from this ramp: on this shared 2-core machine the resource "
    "that runs out first is CPU that other processes take (machine CPU at its limit from the lightest step, the "
    "backend's workers at a fraction of a core), so a per-worker CPU alert never fires here, and every earlier "
    "signal (p99 latency headroom, requests in flight) also crosses in the transient breaches other people's bursts "
    "cause: as a rule it would fire in the harness' steady scenario and flake `make test`. On a machine of its own, "
    "CPU per worker is the signal to alert on (each worker is one event loop); rerun `make capacity` there.")


@dataclass
class Result:
    steps: list[ca.Step]
    stop_reason: str
    header: dict[str, str]
    verdicts: list[ca.AlertVerdict]
    saturation: list[ca.Saturation]
    answer: str
    alert_samples: list[tuple[float, dict[str, str]]] = field(default_factory=list)
    t_ramp: float = 0.0
    t_end: float = 0.0
    sampler_errors: list[str] = field(default_factory=list)
    dashboards: list = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _f(v: float | None, fmt: str = "{:.2f}", none: str = "–") -> str:
    return none if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


def _ms(v: float | None) -> str:
    return _f(v * 1000 if v is not None else None, "{:.0f}")


def _x(steps: list[ca.Step]) -> tuple[list[float], str]:
    if steps and all(s.offered_rps for s in steps):
        return [s.offered_rps for s in steps], "offered load (req/s: users x the lightest step's per-user rate)"
    return [float(s.users) for s in steps], "users"


def plot_latency(r: Result, path: Path) -> None:
    steps = r.steps
    xs, xlabel = _x(steps)
    fig, axes = plt.subplots(3, 1, figsize=(9, 8), sharex=True, gridspec_kw={"height_ratios": [2, 1, 1]})
    ax = axes[0]
    for key, color in (("p50", "#2ca02c"), ("p95", "#ff7f0e"), ("p99", "#d62728")):
        ys = [getattr(s, key) * 1000 if getattr(s, key) is not None else float("nan") for s in steps]
        ax.plot(xs, ys, marker="o", color=color, label=f"{key} (server, SLO routes)")
    ax.axhline(ca.LATENCY_SLO_SECONDS * 1000, color="#444", ls="--", lw=1, label="latency SLO: 99% under 1 s")
    ax.set_yscale("log")
    ax.set_ylabel("latency (ms, log)")
    ax.legend(fontsize=8, loc="upper left")
    ax = axes[1]
    ax.plot(xs, [(s.error_ratio or 0) * 100 for s in steps], marker="o", color="#d62728", label="error ratio")
    ax.plot(xs, [(s.slow_ratio or 0) * 100 for s in steps], marker="s", color="#9467bd", label="slower than 1 s")
    ax.axhline(ca.ERROR_BUDGET * 100, color="#d62728", ls=":", lw=1, label="availability budget 0.1%")
    ax.axhline(ca.SLOW_BUDGET * 100, color="#9467bd", ls=":", lw=1, label="latency budget 1%")
    ax.set_ylabel("% of requests")
    ax.legend(fontsize=8, loc="upper left")
    ax = axes[2]
    ax.plot(xs, [s.achieved_rps or 0 for s in steps], marker="o", label="achieved (server)")
    ax.plot(xs, [s.offered_rps or float("nan") for s in steps], ls="--", color="#888", label="offered")
    ax.set_ylabel("req/s")
    ax.set_xlabel(xlabel)
    ax.legend(fontsize=8, loc="upper left")
    k, b = ca.knee(steps), ca.saturating_breach(steps)
    for a in axes:
        a.grid(alpha=0.3)
        if k is not None:
            a.axvline(xs[steps.index(k)], color="#2ca02c", lw=2, alpha=0.6)
        if b is not None:
            a.axvline(xs[steps.index(b)], color="#d62728", lw=1, ls="--", alpha=0.6)
    title = "Capacity ramp: " + (f"knee at step {k.index + 1} ({k.users} users, {k.achieved_rps or 0:.0f} req/s)"
                                 if k else "no step kept the SLOs")
    axes[0].set_title(title + ("" if b is None else f"; SLO broken from step {b.index + 1}"), fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_alerts(r: Result, path: Path) -> None:
    names = sorted({n for _, states in r.alert_samples for n in states})
    fig, ax = plt.subplots(figsize=(9, max(2.2, 0.4 * len(names) + 1.4)))
    rel = lambda t: t - r.t_ramp  # noqa: E731 - seconds since the ramp began
    draw_alert_bands(ax, names, r.alert_samples, rel)
    if not names:
        ax.text(0.5, 0.5, "no alert was pending or firing during the ramp", transform=ax.transAxes,
                ha="center", va="center", color="#555")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_ylim(-0.7, max(len(names), 1) - 0.3)
    k, b = ca.knee(r.steps), ca.first_breach(r.steps)
    for s in r.steps:
        ax.axvline(rel(s.start), color="#999", lw=0.6)
        ax.text(rel(s.start) + 0.5, max(len(names), 1) - 0.35, f"{s.users}u", fontsize=7, va="top", color="#555")
        if s is k:
            ax.axvspan(rel(s.start), rel(s.end), color="#2ca02c", alpha=0.12)
    if b is not None:
        ax.axvline(rel(b.start), color="#d62728", ls="--", lw=1.2)
    ax.set_xlim(0, max(rel(r.t_end), 1))
    ax.set_xlabel("seconds since the ramp began (yellow pending, red firing; green: the knee step; "
                  "red dashed: users first felt an SLO breach)", fontsize=8)
    ax.set_title("Alerts over the ramp (steps: users)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_resources(r: Result, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 3.6))
    xs = [s.users for s in r.steps]
    for key, (label, limit) in ca.RESOURCES.items():
        if not limit:
            continue
        ys = [s.resources.get(key) for s in r.steps]
        if any(v is not None for v in ys):
            ax.plot(xs, [v / limit if v is not None else float("nan") for v in ys], marker="o", label=label.split(" (")[0])
    ax.axhline(1.0, color="#444", ls="--", lw=1)
    ax.set_xlabel("users")
    ax.set_ylabel("utilisation (1 = limit)")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper left")
    else:
        ax.text(0.5, 0.5, "no resource figure was measured", transform=ax.transAxes, ha="center", color="#555")
    ax.set_title("Resources per step", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _plot(fn, r: Result, path: Path, notes: list[str]) -> bool:
    try:
        fn(r, path)
        return True
    except Exception as exc:  # noqa: BLE001 - a plotting problem must not hide the numbers
        notes.append(f"plot {path.name} failed: {type(exc).__name__}: {exc}")
        return False


def write(report_dir: Path, r: Result) -> tuple[Path, Path]:
    report_dir.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    plots = {name: _plot(fn, r, report_dir / name, notes) for name, fn in (
        ("capacity-latency.png", plot_latency), ("capacity-alerts.png", plot_alerts),
        ("capacity-resources.png", plot_resources))}
    k, b = ca.knee(r.steps), ca.saturating_breach(r.steps)
    fired = [v for v in r.verdicts if v.state != "silent" or not v.verdict.startswith("not a load signal")]
    lines = [f"# {PRODUCT.name} capacity: what load pages us", "", "## The answer", "", r.answer, ""]
    lines += [f"- {v.sentence}" for v in fired] or ["- No alert was pending or firing during the ramp."]
    quiet = [v.alert for v in r.verdicts if v not in fired]
    if quiet:
        lines += [f"- Silent through the ramp ({len(quiet)}): {', '.join(quiet)}."]
    lines += [""]
    if r.failures:
        lines += ["**The run failed:**", ""] + [f"- {f}" for f in r.failures] + [""]
    lines += [f"- **{key}**: {value}" for key, value in r.header.items()] + [""]

    lines += ["## Alerts", "",
              "Per alert that was pending or firing, or that should have warned (its expression reads request, "
              "latency, SLO, pool or CPU series) and stayed silent. *vs breach*: seconds from the start of the "
              "first step that broke an SLO to the firing (negative: before users felt it). *share of "
              f"capacity*: the firing step's offered req/s / the knee's achieved req/s (past the knee the "
              "backend serves less than is offered). Verdict: fine when it fires before the "
              f"breach at >= {ca.FINE_FROM:.0%} of capacity; noisy below that; late after the breach; *threshold too "
              "high* when it never fires although the SLO broke.", "",
              "| alert | severity | state | step (users) | s into step | vs breach | share of capacity | verdict |",
              "|---|---|---|---|---|---|---|---|"]
    for v in fired:
        lines.append(f"| {v.alert} | {v.severity} | {v.state} | "
                     f"{f'{v.step.index + 1} ({v.step.users})' if v.step else '–'} | {_f(v.after_step_start_s, '{:.0f}')} | "
                     f"{_f(v.vs_breach_s, '{:+.0f} s')} | {_f(v.capacity_share, '{:.0%}')} | {v.verdict} |")
    if not fired:
        lines.append("| – | – | – | – | – | – | – | no alert was pending or firing |")
    lines += [""]

    lines += ["## Steps", "",
              "Server-side figures from Prometheus over each step's measured window (the step minus its first "
              "seconds); latency percentiles over the latency SLO's routes (sign-up and login hash passwords on "
              "purpose and are outside it). *slow*: share slower than 1 s (budget 1%); *errors*: the larger of the "
              "backend's 5xx share and Locust's failure share (budget 0.1%). Locust's p95 is its own, over its "
              "last 10 s.", "",
              "| step | users | offered req/s | achieved req/s | p50 ms | p95 ms | p99 ms | slow | errors | Locust p95 ms "
              "| SLOs | backend CPU cores | CPU/worker | machine CPU | pool max | in flight/worker | PG active max "
              "| PG waiting | PG xact/s | PG CPU | Redis ops/s | Redis CPU | Locust CPU |",
              "|" + "---|" * 23]
    for s in r.steps:
        x = s.resources
        mark = "kept" if s.slo_ok else f"**broken: {s.breach()}**" + (" (transient)" if s in ca.transient_breaches(r.steps) else "")
        if s is k:
            mark += " (knee)"
        if s.partial:
            mark += f" ({s.partial})"
        lines.append(
            f"| {s.index + 1} | {s.users} | {_f(s.offered_rps, '{:.1f}')} | {_f(s.achieved_rps, '{:.1f}')} | {_ms(s.p50)} "
            f"| {_ms(s.p95)} | {_ms(s.p99)} | {_f(s.slow_ratio, '{:.2%}')} | {_f(s.error_ratio, '{:.2%}')} "
            f"| {_f(s.client.get('p95_ms'), '{:.0f}')} | {mark} | {_f(x.get('backend_cpu_cores'))} "
            f"| {_f(x.get('backend_cpu_per_worker'))} | {_f(x.get('machine_cpu_busy'), '{:.0%}')} "
            f"| {_f(x.get('db_pool_utilisation_max'), '{:.0%}')} | {_f(x.get('inflight_per_worker'), '{:.1f}')} "
            f"| {_f(x.get('pg_active_max'), '{:.0f}')} | {_f(x.get('pg_waiting_max'), '{:.0f}')} "
            f"| {_f(x.get('pg_xact_rate'), '{:.0f}')} | {_f(x.get('pg_cpu_cores'))} | {_f(x.get('redis_ops_rate'), '{:.0f}')} "
            f"| {_f(x.get('redis_cpu_cores'))} | {_f(x.get('locust_cpu_cores'))} |")
    if not r.steps:
        lines.append("| – |" + " – |" * 22)
    lines += [""]
    if r.sampler_errors:
        lines += ["Server-side figures that could not be read (shown as –): " + "; ".join(r.sampler_errors), ""]

    lines += ["## What saturated first", ""]
    judged = b or (r.steps[-1] if r.steps else None)
    if r.saturation and judged is not None:
        what, evidence = ca.diagnosis(r.steps)
        lines += [f"At step {judged.index + 1} ({judged.users} users"
                  + (", the first above the knee that broke an SLO" if b else ", the last step") + f"): **{what}**.", ""]
        lines += [f"- {e}" for e in evidence] + [""]
        lines += ["Each resource against its limit, at the knee and at that step:", "",
                  "| resource | at the knee | at the judged step | utilisation |", "|---|---|---|---|"]
        lines += [f"| {s.label} | {_f(s.at_knee)} | {_f(s.at_breach)} | {s.utilisation:.0%} |" for s in r.saturation]
        lines += ["", "CPU per worker near 1.0 means each gunicorn worker's event loop is busy all the time: "
                  "requests queue in the loop (in flight per worker rises) and latency grows with load while "
                  "throughput flattens. Machine CPU near 100% on this shared 2-core box includes Locust, "
                  "Prometheus and other people's work: the backend cannot get more CPU than is left.", ""]
    else:
        lines += ["No resource figure was measured.", ""]

    lines += ["## Would a saturation alert warn in time?", "",
              "Candidate signals an alert could read, each against the steps (peaks or window quantiles of each step; "
              "an alert would hold them for its `for`). A useful saturation alert crosses above "
              f"{ca.FINE_FROM:.0%} of capacity, before the SLO breaks, and not in a transient breach.", "",
              "| signal | first step above it | share of capacity | verdict |", "|---|---|---|---|"]
    whatifs = ca.what_if(r.steps)
    for w in whatifs:
        lines.append(f"| {w.signal} | {f'{w.first.index + 1} ({w.first.users} users)' if w.first else '–'} "
                     f"| {_f(w.share, '{:.0%}')} | {w.verdict} |")
    in_time = [w.signal for w in whatifs if "in time" in w.verdict]
    warned = [v.alert for v in r.verdicts if v.verdict.endswith(": fine")]
    busy = bool(r.steps) and (r.steps[0].resources.get("machine_cpu_busy") or 0) >= 0.9
    lines += [""]
    if warned:
        lines += [f"An existing alert warned in time ({', '.join(warned)}): no new rule needed.", ""]
    elif in_time:
        lines += [f"No alert warned before the breach; an alert on {in_time[0]} would have: a candidate for the rule "
                  "catalogue (check it against the harness' steady scenario first).", ""]
    elif busy:
        lines += [WHY_NO_NEW_RULE, ""]
    else:
        lines += ["No alert warned before the breach and no candidate signal would have without noise.", ""]
    lines += ["## Plots", ""]
    for name, ok in plots.items():
        lines += [f"![{name}]({name})" if ok else f"*{name}: not drawn*", ""]
    lines += [f"- {n}" for n in notes]
    lines += ["", "## Dashboards over the ramp", ""]
    if r.dashboards:
        lines += ["Every panel of the committed dashboards (monitoring/grafana/dashboards) over the ramp, drawn from "
                  "Prometheus (`monitoring.dashboards.render`); [the dashboards laid out as in Grafana](dashboards/index.html).", ""]
        lines += panel_gallery(r.dashboards, report_dir)
    else:
        lines += ["Not rendered (`--no-dashboards`, or the run failed before).", ""]
    md = report_dir / "capacity.md"
    md.write_text("\n".join(lines) + "\n")
    return md, to_html(md, f"{PRODUCT.name} capacity report")


# --- the run's raw record: capacity.json, from which the report is (re)drawn ------------------------

def save(report_dir: Path, raw: dict) -> Path:
    """Everything measured, as JSON: `python -m loadtests.report_capacity DIR` redraws the report from it."""
    out = dict(raw)
    out["steps"] = [asdict(s) for s in raw.get("steps", [])]
    out["events"] = [asdict(e) for e in raw.get("events", [])]
    out["dashboards"] = [[d.dashboard, d.panel, str(Path(d.path).resolve().relative_to(report_dir.resolve())), d.had_data]
                         for d in raw.get("dashboards", [])]
    path = report_dir / "capacity.json"
    path.write_text(json.dumps(out, indent=1, default=str))
    return path


def load(report_dir: Path) -> Result:
    raw = json.loads((report_dir / "capacity.json").read_text())
    steps = [ca.Step(**s) for s in raw.get("steps", [])]
    exprs = {a.alert: a.expr for a in all_alerts(FAST)}  # for records written before `guards` was stored
    events = [ca.AlertEvent(**{"guards": ca.guards(exprs.get(e["alert"], "")),
                               "needs_history": " offset " in exprs.get(e["alert"], ""), **e})
              for e in raw.get("events", [])]
    sat = ca.saturation(steps, raw.get("limits", {}))
    return Result(steps=steps, stop_reason=raw.get("stop_reason", ""), header=raw.get("header", {}),
                  verdicts=[ca.judge_alert(e, steps) for e in events], saturation=sat,
                  answer=ca.answer(steps, sat), alert_samples=[(t, s) for t, s in raw.get("alert_samples", [])],
                  t_ramp=raw.get("t_ramp", 0.0), t_end=raw.get("t_end", 0.0),
                  sampler_errors=raw.get("sampler_errors", []),
                  dashboards=[PanelImage(d, p, report_dir / rel, ok) for d, p, rel, ok in raw.get("dashboards", [])],
                  failures=raw.get("failures", []))


def render(report_dir: Path) -> tuple[Path, Path]:
    return write(report_dir, load(report_dir))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Redraw a capacity report from its capacity.json")
    parser.add_argument("report_dir", type=Path)
    md, page = render(parser.parse_args(argv).report_dir)
    print(md, page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
