"""A Grafana dashboard JSON, read the way Grafana reads it: rows and panels with their grid
positions, each panel's queries with Grafana's variables resolved for one time range.

Pure (no network): template variables that Grafana would look up in Prometheus (`label_values`)
take a `label_values` callable, so the renderer passes a real lookup and tests pass a stub.

No maintained library reads Grafana dashboard JSON for rendering outside Grafana
(grafana-foundation-sdk only builds it), so the parts used here are written by hand after
Grafana's own rules: `$__interval` is the range divided by the panel's width in pixels, rounded
by Grafana's `roundInterval` table and never below the datasource's scrape interval;
`$__rate_interval` is max(`$__interval` + scrape interval, 4 x scrape interval).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

GRID_COLUMNS = 24
# Grafana's grid: a column is 1/24 of the width, a row unit is 30 px plus an 8 px margin.
COLUMN_PX = 75
ROW_PX = 38
MAX_POINTS = 11_000  # Prometheus refuses a range query with more points per series

# Grafana's rangeutil.roundInterval: (upper bound ms, rounded interval ms).
_ROUND_INTERVAL_MS = [
    (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1_500, 1_000), (3_500, 2_000),
    (7_500, 5_000), (12_500, 10_000), (17_500, 15_000), (25_000, 20_000), (45_000, 30_000),
    (90_000, 60_000), (210_000, 120_000), (450_000, 300_000), (750_000, 600_000), (1_050_000, 900_000),
    (1_500_000, 1_200_000), (2_700_000, 1_800_000), (5_400_000, 3_600_000), (9_000_000, 7_200_000),
    (16_200_000, 10_800_000), (32_400_000, 21_600_000), (86_400_000, 43_200_000),
    (604_800_000, 86_400_000), (1_814_400_000, 604_800_000), (3_628_800_000, 2_592_000_000),
]
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, "y": 31_536_000}
# $name, ${name}, ${name:format}, [[name]] -- `${1}` (a label_replace group) is not a name.
_VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)(?::(\w+))?\}|\[\[([A-Za-z_]\w*)(?::(\w+))?\]\]|\$([A-Za-z_]\w*)")
_LEGEND = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}")


def round_interval(ms: float) -> int:
    for bound, rounded in _ROUND_INTERVAL_MS:
        if ms < bound:
            return rounded
    return 31_536_000_000


def parse_duration(text: str) -> float:
    """Prometheus/Grafana duration ("15s", "1m30s", "500ms") -> seconds."""
    parts = _DURATION.findall(text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


def format_duration(seconds: float) -> str:
    """Seconds -> the shortest exact Prometheus duration ("1m", "90s", "500ms")."""
    ms = round(seconds * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


@dataclass(frozen=True)
class GridPos:
    x: int
    y: int
    w: int
    h: int

    @property
    def width_px(self) -> int:
        return self.w * COLUMN_PX

    @property
    def height_px(self) -> int:
        return self.h * ROW_PX


@dataclass(frozen=True)
class Target:
    ref_id: str
    expr: str
    legend: str = ""
    instant: bool = False
    hidden: bool = False
    exemplar: bool = False  # Grafana draws the series' exemplars (trace IDs) as dots


@dataclass(frozen=True)
class Threshold:
    value: float
    color: str


@dataclass(frozen=True)
class Panel:
    id: int
    type: str  # timeseries, stat, gauge, table, ... (row headers are Row, not Panel)
    title: str
    row: str
    grid: GridPos
    targets: tuple[Target, ...]
    unit: str = "short"
    decimals: int | None = None
    min: float | None = None
    max: float | None = None
    thresholds: tuple[Threshold, ...] = ()
    thresholds_mode: str = "absolute"
    base_color: str = "green"  # Grafana's first threshold step (value null)
    show_thresholds: bool = True
    description: str = ""
    max_data_points: int | None = None
    interval: str = ""  # the panel's "min interval" override
    reduce: str = "lastNotNull"  # stat/gauge/table: how a series becomes one value


@dataclass(frozen=True)
class Row:
    title: str
    y: int


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    rows: tuple[Row, ...]
    panels: tuple[Panel, ...]
    variables: tuple[dict, ...] = ()

    @property
    def height(self) -> int:
        """Grid rows the dashboard occupies."""
        bottoms = [p.grid.y + p.grid.h for p in self.panels] + [r.y + 1 for r in self.rows]
        return max(bottoms, default=0)


def _panel(raw: dict, row: str) -> Panel:
    defaults = (raw.get("fieldConfig") or {}).get("defaults") or {}
    thresholds = defaults.get("thresholds") or {}
    steps = thresholds.get("steps") or []
    base = next((s.get("color", "green") for s in steps if s.get("value") is None), "green")
    style = ((defaults.get("custom") or {}).get("thresholdsStyle") or {}).get("mode", "line")
    grid = raw.get("gridPos") or {}
    targets = tuple(
        Target(t.get("refId", chr(ord("A") + i)), t["expr"], t.get("legendFormat") or "",
               bool(t.get("instant")) and not t.get("range"), bool(t.get("hide")), bool(t.get("exemplar")))
        for i, t in enumerate(raw.get("targets") or []) if t.get("expr"))
    return Panel(
        id=int(raw.get("id", 0)), type=raw.get("type", "timeseries"), title=raw.get("title", ""), row=row,
        grid=GridPos(int(grid.get("x", 0)), int(grid.get("y", 0)), int(grid.get("w", 12)), int(grid.get("h", 8))),
        targets=targets, unit=defaults.get("unit") or "short", decimals=defaults.get("decimals"),
        min=defaults.get("min"), max=defaults.get("max"),
        thresholds=tuple(Threshold(float(s["value"]), s.get("color", "red")) for s in steps
                         if s.get("value") is not None),
        thresholds_mode=thresholds.get("mode", "absolute"), base_color=base, show_thresholds=style != "off",
        description=raw.get("description") or "", max_data_points=raw.get("maxDataPoints"),
        interval=raw.get("interval") or "",
        reduce=(((raw.get("options") or {}).get("reduceOptions") or {}).get("calcs") or ["lastNotNull"])[0])


def parse_dashboard(raw: dict) -> Dashboard:
    """Rows and panels in grid order; panels of a collapsed row keep their own gridPos."""
    rows: list[Row] = []
    panels: list[Panel] = []
    current = ""
    for item in sorted(raw.get("panels") or [], key=lambda p: ((p.get("gridPos") or {}).get("y", 0),
                                                                  (p.get("gridPos") or {}).get("x", 0))):
        if item.get("type") == "row":
            current = item.get("title", "")
            rows.append(Row(current, int((item.get("gridPos") or {}).get("y", 0))))
            panels.extend(_panel(p, current) for p in item.get("panels") or [])
        else:
            panels.append(_panel(item, current))
    variables = tuple((raw.get("templating") or {}).get("list") or ())
    return Dashboard(raw.get("uid", ""), raw.get("title", ""), tuple(rows), tuple(panels), variables)


@dataclass(frozen=True)
class TimeRange:
    start: float  # epoch seconds
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class PanelTiming:
    interval: float  # $__interval, seconds: also the query_range step
    rate_interval: float  # $__rate_interval, seconds


def panel_timing(panel: Panel, time_range: TimeRange, scrape_interval: float) -> PanelTiming:
    """Grafana's interval for one panel: range / width-in-pixels, rounded, >= the scrape interval."""
    resolution = panel.max_data_points or panel.grid.width_px
    low = max(scrape_interval, parse_duration(panel.interval) if panel.interval else 0)
    interval_ms = max(round_interval(time_range.seconds * 1000 / max(resolution, 1)), low * 1000)
    interval_ms = max(interval_ms, time_range.seconds * 1000 / MAX_POINTS)
    interval = interval_ms / 1000
    return PanelTiming(interval, max(interval + scrape_interval, 4 * scrape_interval))


def _variable_value(var: dict, label_values: Callable[[str, str], list[str]] | None) -> list[str]:
    """The value Grafana would select for one instance: the saved current value, else the default."""
    kind = var.get("type", "")
    current = (var.get("current") or {}).get("value")
    if kind == "datasource":
        return ["prometheus"]
    if current not in (None, "", []) and current != ["$__all"] and current != "$__all":
        return [str(v) for v in current] if isinstance(current, list) else [str(current)]
    if kind in ("constant", "textbox"):
        return [str(var.get("query", ""))]
    options = [o.get("value") for o in var.get("options") or [] if o.get("value") not in (None, "$__all")]
    if kind in ("custom", "interval") and not options:
        options = [o.strip() for o in str(var.get("query", "")).split(",") if o.strip()]
    if kind == "query" and not options and label_values is not None:
        query = var.get("query")
        query = query.get("query", "") if isinstance(query, dict) else str(query or "")
        match = re.fullmatch(r"\s*label_values\((?:(.+),)?\s*(\w+)\s*\)\s*", query)
        if match:
            options = label_values(match.group(1) or "", match.group(2))
    if current in ("$__all", ["$__all"]) or (var.get("includeAll") and not options):
        return [var["allValue"]] if var.get("allValue") else (options or [".*"])
    return [str(v) for v in options[:1]] or [""]


def _format(values: list[str], fmt: str | None) -> str:
    if len(values) == 1 and fmt not in ("regex", "pipe"):
        return values[0]
    if fmt == "csv":
        return ",".join(values)
    if fmt == "pipe":
        return "|".join(values)
    return "(" + "|".join(re.escape(v) for v in values) + ")" if fmt == "regex" else "|".join(values)


def variable_values(dashboard: Dashboard, label_values: Callable[[str, str], list[str]] | None = None
                    ) -> dict[str, list[str]]:
    return {v["name"]: _variable_value(v, label_values) for v in dashboard.variables if v.get("name")}


def builtin_variables(time_range: TimeRange, timing: PanelTiming, dashboard: Dashboard) -> dict[str, str]:
    return {
        "__interval": format_duration(timing.interval),
        "__interval_ms": str(round(timing.interval * 1000)),
        "__rate_interval": format_duration(timing.rate_interval),
        "__rate_interval_ms": str(round(timing.rate_interval * 1000)),
        "__range": f"{round(time_range.seconds)}s",
        "__range_s": str(round(time_range.seconds)),
        "__range_ms": str(round(time_range.seconds * 1000)),
        "__from": str(round(time_range.start * 1000)),
        "__to": str(round(time_range.end * 1000)),
        "__dashboard": dashboard.title,
    }


def interpolate(text: str, variables: dict[str, str | list[str]]) -> str:
    """Replace $name, ${name}, ${name:fmt} and [[name]]; unknown names (and ${1}) stay as written."""
    def replace(match: re.Match) -> str:
        name = match.group(1) or match.group(3) or match.group(5)
        fmt = match.group(2) or match.group(4)
        if name not in variables:
            return match.group(0)
        value = variables[name]
        return _format(value if isinstance(value, list) else [value], fmt)

    return _VARIABLE.sub(replace, text)


@dataclass(frozen=True)
class ResolvedQuery:
    target: Target
    expr: str  # ready for Prometheus
    step: float


@dataclass(frozen=True)
class ResolvedPanel:
    panel: Panel
    queries: tuple[ResolvedQuery, ...] = field(default_factory=tuple)


def resolve_panel(panel: Panel, dashboard: Dashboard, time_range: TimeRange, scrape_interval: float,
                  values: dict[str, list[str]]) -> ResolvedPanel:
    timing = panel_timing(panel, time_range, scrape_interval)
    variables: dict[str, str | list[str]] = {**values, **builtin_variables(time_range, timing, dashboard)}
    return ResolvedPanel(panel, tuple(ResolvedQuery(t, interpolate(t.expr, variables), timing.interval)
                                      for t in panel.targets if not t.hidden))


def resolve_dashboard(dashboard: Dashboard, time_range: TimeRange, scrape_interval: float,
                      label_values: Callable[[str, str], list[str]] | None = None) -> list[ResolvedPanel]:
    values = variable_values(dashboard, label_values)
    return [resolve_panel(p, dashboard, time_range, scrape_interval, values) for p in dashboard.panels]


def legend(fmt: str, labels: dict[str, str]) -> str:
    """Grafana's legendFormat: {{label}} -> its value; empty or __auto -> metric{labels}."""
    if fmt and fmt != "__auto":
        return _LEGEND.sub(lambda m: labels.get(m.group(1), ""), fmt)
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest else (name or "value")
