"""The run report: Markdown (report.md) and its HTML rendering (report.html, loadtests/report_html.py),
one PNG timeline per scenario (matplotlib, headless) and each scenario's dashboards at its fault
(monitoring.dashboards.render over the fault window, under dashboards/<scenario>/).

The first screen answers in one sentence per alert and scenario: fired (after how long, within
its bound or not, delivered where) or not, and whether that was expected.

Timelines come from Prometheus (`query_range`, 1 s steps): requests per second, 5xx ratio and
p95 latency of the backend, plus the alert states the harness polled, with the fault window
shaded. Per alert: time from fault to firing next to the rule's theoretical minimum and the
acceptance bound (minimum + 2 evaluation intervals + 1 scrape interval), and how far past its
threshold the scenario drove it (measured level / threshold, next to the model's prediction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from infra.product import PRODUCT  # noqa: E402
from loadtests.report_html import panel_gallery, to_html  # noqa: E402
from loadtests.verdict import AlertResult, Verdict  # noqa: E402

SERIES = {
    "rps": ('sum(rate(http_requests_total{job="backend"}[5s]))', "requests/s"),
    "error_ratio": ('sum(rate(http_requests_total{job="backend",status_code=~"5.."}[5s])) '
                    '/ sum(rate(http_requests_total{job="backend"}[5s]))', "5xx ratio"),
    "p95": ('histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="backend"}[5s])))',
            "p95 (s)"),
}


@dataclass
class ScenarioRecord:
    name: str
    description: str
    fault: str
    started: float
    t_fault: float
    t_clear: float | None
    ended: float
    verdict: Verdict
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    alert_samples: list[tuple[float, dict[str, str]]] = field(default_factory=list)
    locust: dict = field(default_factory=dict)
    png: str = ""
    dashboards: list = field(default_factory=list)  # monitoring.dashboards.render.PanelImage over the fault
    dashboards_note: str = ""


def render_scenario_dashboards(prometheus_url: str, records: list[ScenarioRecord], report_dir: Path,
                               log=print) -> None:
    """Every committed dashboard panel per scenario, over its fault window (10 s before the fault to
    the fault's end; steady: its whole run). A rendering problem is noted, never fatal."""
    from monitoring.dashboards.render import render_dashboards  # noqa: PLC0415

    for rec in records:
        start, end = rec.t_fault - 10, (rec.t_clear or rec.ended)
        try:
            rec.dashboards = render_dashboards(prometheus_url, start, end, report_dir / "dashboards" / rec.name,
                                               scrape=1.0, title=f"{PRODUCT.name} dashboards: {rec.name} at its fault")
        except Exception as exc:  # noqa: BLE001 - the verdict matters more than the pictures
            rec.dashboards_note = f"dashboards not rendered: {type(exc).__name__}: {exc}"
            log(f"{rec.name}: {rec.dashboards_note}")


def fetch_series(query_range, start: float, end: float) -> dict[str, list[tuple[float, float]]]:
    out = {}
    for key, (expr, _) in SERIES.items():
        try:
            result = query_range(expr, start, end, 1.0)
        except Exception:  # noqa: BLE001 - a missing timeline must not hide the verdict
            result = []
        points = []
        for series in result[:1]:
            for t, v in series.get("values", []):
                value = float(v)
                points.append((float(t), value if math.isfinite(value) else float("nan")))
        out[key] = points
    return out


ALERT_STATE_COLORS = {"pending": "#f2c14e", "firing": "#d1495b"}


def draw_alert_bands(ax, names: list[str], samples: list[tuple[float, dict[str, str]]], rel) -> None:  # noqa: ANN001
    """One row per alert name: a bar for each sampled interval in which it was pending or firing
    (samples: (time, {alert: state}) in time order; rel: time -> the plot's x)."""
    for i, name in enumerate(names):
        for (t0, states), (t1, _) in zip(samples, samples[1:], strict=False):
            state = states.get(name)
            if state:
                ax.barh(i, t1 - t0, left=rel(t0), color=ALERT_STATE_COLORS[state], height=0.6)


def plot(rec: ScenarioRecord, path: Path) -> None:
    names = sorted({n for _, states in rec.alert_samples for n in states})
    fig, axes = plt.subplots(4, 1, figsize=(10, 8.5), sharex=True,
                             gridspec_kw={"height_ratios": [1, 1, 1, max(1.0, 0.35 * len(names) + 0.4)]})
    rel = lambda t: t - rec.t_fault  # noqa: E731 - seconds relative to the fault
    for ax, key in zip(axes[:3], SERIES, strict=True):
        pts = rec.series.get(key, [])
        ax.plot([rel(t) for t, _ in pts], [v for _, v in pts], lw=1.4)
        ax.set_ylabel(SERIES[key][1])
        ax.grid(alpha=0.3)
    ax = axes[3]
    draw_alert_bands(ax, names, rec.alert_samples, rel)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_ylim(-0.7, max(len(names), 1) - 0.3)
    ax.set_xlabel("seconds since the fault (yellow pending, red firing)")
    for a in axes:
        if rec.t_clear:
            a.axvspan(0, rel(rec.t_clear), color="#888", alpha=0.12)
        a.axvline(0, color="#444", lw=0.8, ls="--")
    axes[0].set_title(f"{rec.name}: {rec.fault}" + ("" if rec.verdict.ok else "  (FAILED)"))
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _fmt(v: float | None, unit: str = "s") -> str:
    if v is None:
        return "–"
    return f"{v:.2f}{unit}" if unit == "x" else f"{v:.1f}{unit}"


def write(report_dir: Path, records: list[ScenarioRecord], header: dict[str, str], dashboards: list[str],
          failures: list[str]) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    lines = [f"# {PRODUCT.name} alert verification", ""]
    lines += [f"- **{k}**: {v}" for k, v in header.items()]
    lines += ["", f"**Result: {'PASS' if not failures else 'FAIL'}**", "", "## The answer", ""]
    lines += [f"- {sentence(r.name, a)}" for r in records for a in r.verdict.alerts]
    lines += [f"- **{r.name}**: nothing fired, as expected." for r in records
              if not r.verdict.alerts and r.verdict.ok]
    if not records:
        lines.append("- No scenario ran.")
    lines += [""]
    if failures:
        lines += ["## Failures", ""] + [f"- {f}" for f in failures] + [""]
    lines += ["## Scenarios", "", "| scenario | result | fault | duration | requests | failed | req/s |",
              "|---|---|---|---|---|---|---|"]
    for r in records:
        lines.append(f"| {r.name} | {'ok' if r.verdict.ok else '**FAIL**'} | {r.fault} | {r.ended - r.started:.0f}s "
                     f"| {r.locust.get('requests', 0)} | {r.locust.get('failures', 0)} | {r.locust.get('rps', 0):.1f} |")
    lines += ["", "## Detection latency and margin per alert", "",
              "All times from Prometheus' own timestamps, relative to the fault. `fired after`: the evaluation "
              "that first wrote `ALERTS{alertstate=\"firing\"}`. `held from`: the start of the unbroken run of "
              "evaluations in which the rule's expression held and that ended in the firing (the episode's "
              "`activeAt`; `expr` is the same read from `query_range` of the expression, step = evaluation "
              "interval). Theoretical minimum = `for` + held from; the acceptance bound adds 2 evaluation "
              "intervals + 1 scrape interval. `model min` is `for` + the fill predicted from the scenario's "
              "intensity at steady traffic (loadtests/rules.py `Fill`), a cross-check. `level/threshold`: the "
              "rule's comparisons, each left-hand side / threshold combined as the expression combines them "
              "(`and`: the smallest, `or`: the largest), measured with query_range (median while firing), next "
              "to the model's prediction for its primary comparison at the steady request rate; the catalogue "
              "wants at least 1.5x.", "",
              "| scenario | alert | fired after | held from (expr) | theoretical min | model min | bound | within "
              "| level/threshold measured (model) | receivers | resolved after fault end | note |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        for a in r.verdict.alerts:
            within = {True: "yes", False: "**no**", None: "–"}[a.within_bound]
            receivers = ", ".join(f"{k}: {v}" for k, v in a.receivers.items()) or "–"
            margin = f"{_fmt(a.measured_margin, 'x')} ({_fmt(a.model_margin, 'x')})"
            if a.expected and a.measured_margin is None and a.model_margin is None:
                margin = "binary"
            lines.append(f"| {r.name} | {a.alert}{'' if a.expected else ' (not expected)'} | {_fmt(a.latency_s)} "
                         f"| {_fmt(a.measured_fill_s)} ({_fmt(a.expr_held_s)}) | {_fmt(a.theoretical_min_s)} "
                         f"| {_fmt(a.model_min_s)} | {_fmt(a.bound_s)} | {within} | {margin} | {receivers} "
                         f"| {_fmt(a.resolved_after_s)} | {a.note} |")
    lines += ["", "## Alerts that must stay silent: peak level / threshold", "",
              "Per scenario, the highest level / threshold of each rule that must stay silent (combined as above) "
              "over the scenario; rules that are binary or compare two series, alerts allowed alongside and "
              "alerts carried from an earlier scenario are not listed.", "",
              "| scenario | alert: peak level/threshold |", "|---|---|"]
    for r in records:
        peaks = ", ".join(f"{n} {m:.2f}x" for n, m in r.verdict.silent_margins.items()) or "–"
        lines.append(f"| {r.name} | {peaks} |")
    lines += ["", "## Dashboards", ""] + [f"- {d}" for d in dashboards] + [""]
    lines += ["## Timelines", ""]
    for r in records:
        lines += [f"### {r.name}", "", r.description, ""]
        if r.verdict.notes:
            lines += [f"- note: {n}" for n in r.verdict.notes] + [""]
        if r.locust.get("failures_by_name"):
            lines += ["Locust failures: " + ", ".join(f"{k} x{v}" for k, v in r.locust["failures_by_name"].items()), ""]
        if r.png:
            lines += [f"![{r.name}]({r.png})", ""]
        if r.dashboards:
            lines += [f"Dashboards at the fault ([laid out as in Grafana](dashboards/{r.name}/index.html)):", ""]
            lines += panel_gallery(r.dashboards, report_dir)
        elif r.dashboards_note:
            lines += [f"*{r.dashboards_note}*", ""]
    path = report_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    to_html(path, f"{PRODUCT.name} alert verification")
    return path


def sentence(scenario: str, a: AlertResult) -> str:
    """One alert of one scenario, in one sentence."""
    where = ", ".join(f"{k} {v}" for k, v in a.receivers.items())
    if a.fired and a.latency_s is not None:
        timing = f"fired {a.latency_s:.1f} s after the fault" + (
            f" ({'within' if a.within_bound else 'outside'} its {a.bound_s:.1f} s bound)" if a.bound_s is not None else "")
    elif a.fired:
        timing = "was firing" + (" (carried over from an earlier scenario)" if a.carried else "")
    else:
        timing = "did not fire"
    expected = "expected" if a.expected else "not expected"
    return (f"**{a.alert}** in {scenario} {timing}" + (f", delivered to {where}" if where else "")
            + f": {expected}" + (f" ({a.note})" if a.note else "") + ".")


def stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")
