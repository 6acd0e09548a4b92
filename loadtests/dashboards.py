"""Dashboards fill: every panel of every dashboard returns data from the real Prometheus.

The panels and their queries come from the monitoring part (`monitoring.dashboards.queries`,
which reads the committed Grafana JSON). Panels marked `requires_fault="<scenario>"` are
legitimately empty while healthy: they are checked at the moment their scenario's fault is at its
peak (an instant query at that time), or listed as not checked when that scenario did not run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Grafana's $__rate_interval is max(4 x scrape interval, step + scrape interval): 4s at the fast
# profile's 1s scrape. A little wider here, so an instant query sees two samples on a busy box.
RATE_INTERVAL = "10s"


@dataclass(frozen=True)
class Panel:
    dashboard: str
    title: str
    exprs: tuple[str, ...]
    requires_fault: str | None = None

    @property
    def label(self) -> str:
        return f"{self.dashboard} / {self.title}"


def all_panels() -> list[Panel]:
    """Every panel of the committed dashboard JSON, via the monitoring part's own extractor."""
    from monitoring.dashboards.queries import panel_queries, substitute  # noqa: PLC0415

    panels: dict[tuple[str, str, str], list] = {}
    faults: dict[tuple[str, str, str], str | None] = {}
    for q in panel_queries():
        key = (q.dashboard, q.row, q.title)
        panels.setdefault(key, []).append(substitute(q.expr, RATE_INTERVAL, "1m"))
        faults[key] = q.requires_fault
    return [Panel(d, f"{row} / {title}" if row else title, tuple(exprs), faults[(d, row, title)])
            for (d, row, title), exprs in panels.items()]


@dataclass
class FillResult:
    checked: list[str]
    empty: list[str]  # "dashboard / panel: which query is empty"

    def failure(self) -> str | None:
        if not self.empty:
            return None
        return "dashboard panels without data: " + "; ".join(self.empty)


def check(query: Callable[[str, float | None], list], panels: list[Panel], at: float | None = None) -> FillResult:
    """Run each panel's queries (instant, at `at`); a panel is empty when any of its queries is."""
    res = FillResult([], [])
    for p in panels:
        res.checked.append(p.label)
        for expr in p.exprs:
            try:
                result = query(expr, at)
            except Exception as exc:  # noqa: BLE001 - a bad query is reported like an empty one
                res.empty.append(f"{p.label} (query error {type(exc).__name__}: {expr})")
                break
            if not result:
                res.empty.append(f"{p.label} (no data: {expr})")
                break
    return res
