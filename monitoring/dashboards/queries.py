"""Every panel query of the committed dashboards, and a live check that each returns data.

Reads the generated JSON (what Grafana actually runs), not the Python specs. Used by the
monitoring live test and by the load harness after its steady run:

    from monitoring.dashboards.queries import check_panels, format_report
    results = check_panels("http://127.0.0.1:9090")
    empty = [r for r in results if r.problem and not r.requires_fault]
    print(format_report(empty))

or `python -m monitoring.dashboards.queries http://127.0.0.1:9090` (exit 1 when a panel that
needs no fault is empty or its query fails).
"""

from __future__ import annotations

import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from monitoring.dashboards.layout import interpolate

DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "grafana" / "dashboards"
_FAULT = re.compile(r"Needs a fault to show data: scenario `([a-z_]+)`")


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    row: str
    title: str
    ref_id: str
    expr: str
    requires_fault: str | None  # scenario that fills the panel, None = must have data when healthy


@dataclass(frozen=True)
class PanelResult:
    query: PanelQuery
    series: int
    error: str | None = None

    @property
    def requires_fault(self) -> str | None:
        return self.query.requires_fault

    @property
    def problem(self) -> str | None:
        if self.error:
            return f"query failed: {self.error}"
        return "no data" if self.series == 0 else None


def load_dashboards(directory: Path = DASHBOARD_DIR) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(Path(directory).glob("*.json"))}


def panel_queries(dashboards: dict[str, dict] | None = None) -> list[PanelQuery]:
    """All (dashboard, row, panel, target) queries, in dashboard order."""
    out = []
    for dash in (dashboards if dashboards is not None else load_dashboards()).values():
        row = ""
        for panel in dash.get("panels", []):
            if panel.get("type") == "row":
                row = panel.get("title", "")
                nested = panel.get("panels") or []
            else:
                nested = [panel]
            for p in nested:
                match = _FAULT.search(p.get("description") or "")
                for target in p.get("targets") or []:
                    if target.get("expr"):
                        out.append(PanelQuery(dash["title"], row, p.get("title", ""), target.get("refId", ""),
                                              target["expr"], match.group(1) if match else None))
    return out


def substitute(expr: str, rate_interval: str = "1m", range_: str = "1h") -> str:
    """Grafana's variables, for running a panel query outside Grafana."""
    return interpolate(expr, {"__rate_interval": rate_interval, "__interval": rate_interval, "__range": range_})


def instant_query(prometheus_url: str, expr: str, timeout: float = 10.0) -> list[dict]:
    url = f"{prometheus_url.rstrip('/')}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = json.load(resp)
    except urllib.error.HTTPError as exc:  # 400 carries Prometheus' error message
        body = json.load(exc)
    if body.get("status") != "success":
        raise ValueError(body.get("error", "query failed"))
    result = body["data"]["result"]
    return result if isinstance(result, list) else [result]


def check_panels(prometheus_url: str, *, rate_interval: str = "1m", range_: str = "1h",
                 queries: list[PanelQuery] | None = None) -> list[PanelResult]:
    results = []
    for q in queries if queries is not None else panel_queries():
        try:
            series = len(instant_query(prometheus_url, substitute(q.expr, rate_interval, range_)))
            results.append(PanelResult(q, series))
        except (ValueError, OSError) as exc:
            results.append(PanelResult(q, 0, str(exc)))
    return results


def format_report(results: list[PanelResult]) -> str:
    """Problems grouped by dashboard, one line per panel query."""
    lines, current = [], None
    for r in results:
        if not r.problem:
            continue
        if r.query.dashboard != current:
            current = r.query.dashboard
            lines.append(f"{current}:")
        fault = f" (filled by scenario {r.requires_fault})" if r.requires_fault else ""
        lines.append(f"  [{r.query.row}] {r.query.title} / {r.query.ref_id}: {r.problem}{fault}\n"
                     f"      {r.query.expr}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    url = argv[0] if argv else "http://127.0.0.1:9090"
    results = check_panels(url)
    bad = [r for r in results if r.problem and not r.requires_fault]
    faults = [r for r in results if r.problem and r.requires_fault]
    print(f"{len(results)} panel queries, {len(bad)} empty or failing, {len(faults)} waiting for a fault")
    if bad:
        print(format_report(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
