"""The committed Grafana dashboards as pictures, drawn from Prometheus without Grafana.

    python -m monitoring.dashboards.render --prometheus http://127.0.0.1:9090 --minutes 15 --out .data/dashboards/

prints the path of an HTML page that lays the panels out as the dashboard does (CSS grid from
gridPos). For reports:

    from monitoring.dashboards.render import render_dashboards
    for dashboard, panel, image, had_data in render_dashboards(url, start, end, out_dir): ...

writes, under out_dir: index.html, <dashboard uid>.png (the whole dashboard, grid layout) and
<dashboard uid>/<panel id>-<slug>.png (one per panel). Every panel gets an image; a panel whose
queries return nothing says "no data: <query>" in its picture and in the PNG's Description.

No maintained package renders Grafana dashboard JSON without a Grafana server (the PyPI ones,
e.g. py-grafana-render, screenshot a running Grafana), so the drawing is matplotlib, by hand.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import re
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import yaml
from matplotlib import colors as mcolors
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator
from PIL import Image, ImageDraw, ImageFont

from monitoring.dashboards.layout import (COLUMN_PX, GRID_COLUMNS, ROW_PX, Dashboard, Panel, ResolvedPanel,
                                          ResolvedQuery, TimeRange, legend, parse_dashboard, parse_duration,
                                          resolve_dashboard)
from monitoring.dashboards.queries import DASHBOARD_DIR, load_dashboards
from monitoring.dashboards.units import format_value

DEFAULT_SCRAPE_INTERVAL = 15.0  # the provisioned datasource's timeInterval
DPI = 100
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94"]
# Grafana's named colours (thresholds use them).
GRAFANA_COLORS = {"green": "#73BF69", "red": "#F2495C", "orange": "#FF9830", "yellow": "#FADE2A",
                  "blue": "#5794F2", "purple": "#B877D9", "dark-red": "#C4162A", "dark-green": "#37872D",
                  "dark-orange": "#FA6400", "dark-yellow": "#E0B400", "semi-dark-red": "#E02F44",
                  "semi-dark-green": "#56A64B", "semi-dark-orange": "#FF780A", "text": "#24292E"}
NO_DATA_COLOR = "#8e8e8e"
EXEMPLAR_COLOR = "#b8860b"  # dark goldenrod: apart from every palette colour
BINARY_UNITS = {"bytes", "Bps", "binBps", "bps", "binbps"}
TITLE_COLOR = "#24292e"
FRAME_COLOR = "#d0d4d9"
GAP_PX = 8  # between panels, as Grafana's grid margin


class PanelImage(NamedTuple):
    dashboard: str  # dashboard title
    panel: str  # panel title
    path: Path
    had_data: bool


# --- Prometheus --------------------------------------------------------------------------------

def _api(prometheus_url: str, path: str, params: dict | list | None = None, timeout: float = 15) -> object:
    url = f"{prometheus_url.rstrip('/')}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = json.load(resp)
    except urllib.error.HTTPError as exc:  # 400/422 carry Prometheus' error message
        body = json.load(exc)
    if body.get("status") != "success":
        raise ValueError(body.get("error", "query failed"))
    return body["data"]


def scrape_interval(prometheus_url: str) -> float:
    """The global scrape interval of the Prometheus we query (what Grafana's datasource would set)."""
    config = yaml.safe_load(_api(prometheus_url, "/api/v1/status/config")["yaml"]) or {}
    return parse_duration(str((config.get("global") or {}).get("scrape_interval", "1m")))


def label_values_lookup(prometheus_url: str):
    def lookup(match: str, label: str) -> list[str]:
        return list(_api(prometheus_url, f"/api/v1/label/{label}/values", [("match[]", match)] if match else None))
    return lookup


@dataclass
class Series:
    label: str
    times: np.ndarray  # epoch seconds
    values: np.ndarray  # NaN where Prometheus had no point


@dataclass
class QueryResult:
    query: ResolvedQuery
    series: list[Series]
    error: str | None = None
    exemplars: list[tuple[float, float]] = field(default_factory=list)  # (epoch, value) of exemplar targets

    @property
    def has_data(self) -> bool:
        return any(np.isfinite(s.values).any() for s in self.series)


def exemplars(prometheus_url: str, expr: str, time_range: TimeRange) -> list[tuple[float, float]]:
    """The exemplars Prometheus stores for the query's series (/api/v1/query_exemplars), as Grafana
    fetches them for a target with `exemplar: true`; none when the call fails (a marker, not data)."""
    try:
        data = _api(prometheus_url, "/api/v1/query_exemplars",
                    {"query": expr, "start": time_range.start, "end": time_range.end})
    except (ValueError, OSError, KeyError):
        return []
    return [(float(e["timestamp"]), float(e["value"])) for group in data or [] for e in group.get("exemplars", [])]


def run_query(prometheus_url: str, query: ResolvedQuery, time_range: TimeRange) -> QueryResult:
    """query_range over the range (instant at its end for instant targets), points on Grafana's step grid."""
    try:
        if query.target.instant:
            data = _api(prometheus_url, "/api/v1/query", {"query": query.expr, "time": time_range.end})
            raw = data["result"] if isinstance(data["result"], list) else [{"metric": {}, "value": data["result"]}]
            return QueryResult(query, [Series(legend(query.target.legend, r.get("metric", {})),
                                              np.array([float(r["value"][0])]), np.array([float(r["value"][1])]))
                                       for r in raw])
        step = query.step
        start = math.floor(time_range.start / step) * step  # Grafana aligns the range to the step
        end = math.ceil(time_range.end / step) * step
        data = _api(prometheus_url, "/api/v1/query_range",
                    {"query": query.expr, "start": start, "end": end, "step": step})
    except (ValueError, OSError, KeyError) as exc:
        return QueryResult(query, [], str(exc))
    grid = start + step * np.arange(int(round((end - start) / step)) + 1)
    series = []
    for r in data["result"]:
        values = np.full(len(grid), np.nan)
        for ts, value in r.get("values", []):
            i = int(round((float(ts) - start) / step))
            if 0 <= i < len(grid):
                values[i] = float(value)
        series.append(Series(legend(query.target.legend, r.get("metric", {})), grid, values))
    found = exemplars(prometheus_url, query.expr, time_range) if query.target.exemplar else []
    return QueryResult(query, series, exemplars=found)


def reduce_series(series: Series, how: str) -> float:
    finite = series.values[np.isfinite(series.values)]
    if not len(finite):
        return math.nan
    return {"mean": float(np.mean(finite)), "max": float(np.max(finite)), "min": float(np.min(finite)),
            "sum": float(np.sum(finite)), "first": float(series.values[0]), "firstNotNull": float(finite[0]),
            "last": float(series.values[-1])}.get(how, float(finite[-1]))


# --- drawing -----------------------------------------------------------------------------------

def _color(name: str) -> str:
    name = GRAFANA_COLORS.get(name, name)
    return name if mcolors.is_color_like(name) else NO_DATA_COLOR


def _threshold_color(panel: Panel, value: float) -> str:
    color = panel.base_color
    for t in panel.thresholds:
        if value >= t.value:
            color = t.color
    return _color(color) if panel.thresholds else TITLE_COLOR


def _thresholds_abs(panel: Panel, lo: float, hi: float) -> list[tuple[float, str]]:
    if panel.thresholds_mode == "percentage":
        lo, hi = (panel.min if panel.min is not None else lo), (panel.max if panel.max is not None else hi)
        return [(lo + (hi - lo) * t.value / 100, _color(t.color)) for t in panel.thresholds]
    return [(t.value, _color(t.color)) for t in panel.thresholds]


def _short(label: str, limit: int = 48) -> str:
    """Cut in the middle: series often differ only at the end (file paths, routes)."""
    if len(label) <= limit:
        return label
    head = limit // 3
    return label[:head] + "…" + label[-(limit - head - 1):]


class _ScaledLocator(MaxNLocator):
    """Round ticks in the unit a person reads: 1 KiB steps for bytes, not 1000 B ones."""

    def __init__(self, unit: str, **kwargs):
        super().__init__(**kwargs)
        self.unit = unit

    def tick_values(self, vmin, vmax):
        scale = 1.0
        if self.unit in BINARY_UNITS:
            top = max(abs(vmin), abs(vmax))
            while top / scale >= 1024:
                scale *= 1024
        return super().tick_values(vmin / scale, vmax / scale) * scale


def _no_data_text(results: list[QueryResult], width_px: int) -> str:
    chars = max(30, int(width_px / 6.5))
    lines = []
    for r in results:
        what = f"query failed: {r.error}" if r.error else "no data"
        lines.extend(textwrap.wrap(f"{what}: {r.query.expr}", chars, subsequent_indent="    ")[:3])
    return "\n".join(lines[:9])


def _figure(panel: Panel) -> Figure:
    fig = Figure(figsize=((panel.grid.width_px - GAP_PX) / DPI, (panel.grid.height_px - GAP_PX) / DPI), dpi=DPI,
                 layout="constrained")
    fig.get_layout_engine().set(w_pad=6 / DPI, h_pad=4 / DPI)
    fig.patch.set_facecolor("white")
    fig.patch.set_edgecolor(FRAME_COLOR)
    fig.patch.set_linewidth(2)
    fig.suptitle(_short(panel.title, int(panel.grid.width_px / 7)), x=0.01, ha="left", fontsize=9.5,
                 fontweight="bold", color=TITLE_COLOR)
    return fig


def _empty(fig: Figure, results: list[QueryResult], width_px: int) -> None:
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.62, "No data", ha="center", va="center", fontsize=14, color=NO_DATA_COLOR,
            transform=ax.transAxes)
    ax.text(0.5, 0.42, _no_data_text(results, width_px), ha="center", va="top", fontsize=7, family="monospace",
            color=NO_DATA_COLOR, transform=ax.transAxes)


def _legend(fig: Figure, handles: list, labels: list[str], panel: Panel) -> None:
    if not labels:
        return
    longest = max(len(lb) for lb in labels)
    ncols = max(1, min(len(labels), int(panel.grid.width_px / (longest * 5.2 + 28))))
    max_rows = max(1, panel.grid.h // 3)
    room = ncols * max_rows
    if len(labels) > room:
        hidden = len(labels) - (room - 1)
        handles = handles[:room - 1] + [Line2D([], [], color="none")]
        labels = labels[:room - 1] + [f"+{hidden} more"]
    fig.legend(handles, labels, loc="outside lower left", ncols=ncols, frameon=False, fontsize=7,
               handlelength=1.2, columnspacing=1.2, borderaxespad=0, labelspacing=0.25)


def _timeseries(fig: Figure, panel: Panel, results: list[QueryResult], time_range: TimeRange) -> None:
    ax = fig.add_subplot()
    tz = datetime.now().astimezone().tzinfo
    handles, labels, finite = [], [], []
    i = 0
    for r in results:
        for s in r.series:
            if not np.isfinite(s.values).any():
                continue
            color = PALETTE[i % len(PALETTE)]
            i += 1
            x = [datetime.fromtimestamp(t, tz) for t in s.times]
            (line,) = ax.plot(x, s.values, color=color, linewidth=1.3)
            lone = np.isfinite(s.values) & ~np.isfinite(np.roll(s.values, 1)) & ~np.isfinite(np.roll(s.values, -1))
            if lone.any():  # a point between gaps has no line: draw it
                ax.plot(np.array(x)[lone], s.values[lone], "o", color=color, markersize=2.5)
            handles.append(line)
            labels.append(_short(s.label))
            finite.append(s.values[np.isfinite(s.values)])
    marks = [e for r in results for e in r.exemplars]
    if marks:  # Grafana's exemplar dots: one per stored trace ID, at its time and observed value
        ax.scatter([datetime.fromtimestamp(t, tz) for t, _ in marks], [v for _, v in marks], s=9, marker="D",
                   color=EXEMPLAR_COLOR, zorder=3, linewidths=0)
        handles.append(ax.collections[-1])
        labels.append(f"exemplars ({len(marks)})")
        finite.append(np.array([v for _, v in marks]))
    values = np.concatenate(finite)
    lo, hi = float(values.min()), float(values.max())
    bottom = panel.min if panel.min is not None else (0.0 if lo >= 0 else None)
    top = panel.max if panel.max is not None else (None if hi > (bottom or 0) else (bottom or 0) + 1)
    ax.set_ylim(bottom=bottom, top=top)
    y0, y1 = ax.get_ylim()
    if panel.show_thresholds:
        for value, color in _thresholds_abs(panel, lo, hi):
            if y0 <= value <= y1:
                ax.axhline(value, color=color, linestyle="--", linewidth=1.1)
            else:
                ax.text(0.995, 0.98 if value > y1 else 0.02, f"threshold {format_value(value, panel.unit)} "
                        f"{'above' if value > y1 else 'below'}", transform=ax.transAxes, ha="right",
                        va="top" if value > y1 else "bottom", fontsize=6.5, color=color)
    ax.set_xlim(datetime.fromtimestamp(time_range.start, tz), datetime.fromtimestamp(time_range.end, tz))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=max(4, panel.grid.w // 2)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S" if time_range.seconds <= 600 else "%H:%M", tz))
    ax.yaxis.set_major_locator(_ScaledLocator(panel.unit, nbins=max(3, panel.grid.h // 2), steps=[1, 2, 2.5, 5, 10]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_value(v, panel.unit, panel.decimals)))
    ax.tick_params(labelsize=7, colors="#555", length=2)
    ax.grid(True, color="#e6e6e6", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#bbb")
    empty = [r for r in results if not r.has_data]
    if empty:  # some queries of the panel had nothing: say which, small, under the plot
        ax.set_xlabel(_short("; ".join(f"{'failed' if r.error else 'no data'}: {r.query.expr}" for r in empty),
                             int(panel.grid.width_px / 5)), fontsize=6, color=NO_DATA_COLOR, loc="left")
    _legend(fig, handles, labels, panel)


def _values(panel: Panel, results: list[QueryResult]) -> list[tuple[str, float]]:
    return [(s.label, reduce_series(s, panel.reduce)) for r in results for s in r.series
            if np.isfinite(s.values).any()]


def _stat(fig: Figure, panel: Panel, results: list[QueryResult]) -> None:
    values = _values(panel, results)[:6]
    ax = fig.add_subplot()
    ax.set_axis_off()
    size = 30 if len(values) == 1 else 20 if len(values) <= 3 else 13
    for i, (label, value) in enumerate(values):
        y = 1 - (i + 0.5) / len(values)
        ax.text(0.5, y, format_value(value, panel.unit, panel.decimals), ha="center", va="center",
                fontsize=size, fontweight="bold", color=_threshold_color(panel, value), transform=ax.transAxes)
        ax.text(0.5, y - 0.5 / len(values) + 0.02, _short(label, 40), ha="center", va="bottom", fontsize=7,
                color="#555", transform=ax.transAxes)


def _gauge(fig: Figure, panel: Panel, results: list[QueryResult]) -> None:
    label, value = _values(panel, results)[0]
    lo = panel.min if panel.min is not None else 0.0
    hi = panel.max if panel.max is not None else (1.0 if panel.unit == "percentunit" else 100.0)
    share = min(max((value - lo) / (hi - lo), 0), 1) if hi > lo else 0
    ax = fig.add_subplot(aspect="equal")
    ax.set_axis_off()
    theta = np.linspace(math.pi, 0, 100)
    ax.plot(np.cos(theta), np.sin(theta), color="#e6e6e6", linewidth=12, solid_capstyle="butt")
    filled = np.linspace(math.pi, math.pi * (1 - share), 100)
    ax.plot(np.cos(filled), np.sin(filled), color=_threshold_color(panel, value) if panel.thresholds else PALETTE[2],
            linewidth=12, solid_capstyle="butt")
    ax.text(0, 0.15, format_value(value, panel.unit, panel.decimals), ha="center", fontsize=16, fontweight="bold",
            color=TITLE_COLOR)
    ax.text(0, -0.2, _short(label, 40), ha="center", fontsize=7, color="#555")
    ax.set_xlim(-1.2, 1.2)
    ax.set_ylim(-0.3, 1.2)


def _table(fig: Figure, panel: Panel, results: list[QueryResult]) -> None:
    rows = [[_short(label, 60), format_value(value, panel.unit, panel.decimals)]
            for label, value in _values(panel, results)]
    ax = fig.add_subplot()
    ax.set_axis_off()
    fit = max(1, panel.grid.h * 2 - 2)
    if len(rows) > fit:
        rows = rows[:fit - 1] + [[f"+{len(rows) - fit + 1} more", ""]]
    table = ax.table(cellText=rows, colLabels=["series", "value"], loc="upper center", cellLoc="left",
                     colWidths=[0.75, 0.25])
    table.auto_set_font_size(False)
    table.set_fontsize(7)


def draw_panel(panel: Panel, results: list[QueryResult], time_range: TimeRange, path: Path) -> bool:
    """One PNG for one panel; returns whether any of its queries had data."""
    fig = _figure(panel)
    had_data = any(r.has_data for r in results)
    if not had_data:
        _empty(fig, results, panel.grid.width_px)
        description = _no_data_text(results, 10_000)
    else:
        draw = {"stat": _stat, "gauge": _gauge, "bargauge": _stat, "table": _table}.get(panel.type)
        if draw:
            draw(fig, panel, results)
        else:  # timeseries, graph and anything else that is a line over time
            _timeseries(fig, panel, results, time_range)
        description = f"{sum(len(r.series) for r in results)} series; " + "; ".join(
            f"{'data' if r.has_data else 'no data'}: {r.query.expr}" for r in results)
    if not panel.targets:
        description = "no data: the panel has no query"
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig).print_png(str(path), metadata={"Title": panel.title, "Description": description})
    return had_data


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50] or "panel"


def _font(size: int) -> ImageFont.FreeTypeFont:
    from matplotlib import font_manager

    return ImageFont.truetype(font_manager.findfont("DejaVu Sans:bold"), size)


def compose_dashboard(dashboard: Dashboard, images: dict[int, Path], path: Path, subtitle: str) -> Path:
    """One PNG with every panel image at its grid position and the row titles between them."""
    header = 2 * ROW_PX
    canvas = Image.new("RGB", (GRID_COLUMNS * COLUMN_PX, header + dashboard.height * ROW_PX), "#f4f5f5")
    draw = ImageDraw.Draw(canvas)
    draw.text((12, 8), dashboard.title, fill=TITLE_COLOR, font=_font(24))
    draw.text((12, 8 + 34), subtitle, fill="#555", font=_font(13))
    for row in dashboard.rows:
        draw.text((12, header + row.y * ROW_PX + 8), row.title, fill=TITLE_COLOR, font=_font(18))
    for panel in dashboard.panels:
        with Image.open(images[panel.id]) as img:
            canvas.paste(img.convert("RGB"), (panel.grid.x * COLUMN_PX + GAP_PX // 2,
                                              header + panel.grid.y * ROW_PX + GAP_PX // 2))
    canvas.save(path)
    return path


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f5f5; color: #24292e; margin: 16px; }}
.dashboard {{ display: grid; grid-template-columns: repeat({columns}, minmax(0, 1fr)); grid-auto-rows: auto;
  gap: 0; max-width: {width}px; }}
.dashboard h2 {{ grid-column: 1 / -1; margin: 12px 0 4px; font-size: 18px; }}
.dashboard figure {{ margin: 0; padding: {half_gap}px; }}
.dashboard img {{ width: 100%; height: auto; display: block; }}
.dashboard figure.empty img {{ opacity: 0.85; }}
</style></head><body>
<h1>{title}</h1>
<p>{range_text}</p>
{sections}
</body></html>
"""


def write_html(out_dir: Path, title: str, time_range: TimeRange,
               dashboards: list[tuple[Dashboard, Path, list[tuple[Panel, Path, bool]]]]) -> Path:
    sections = []
    for dashboard, picture, panels in dashboards:
        items = []
        # CSS grid rows: a row header takes one grid unit, a panel its h units (grid-row from gridPos.y).
        for row in dashboard.rows:
            items.append(f'<h2 style="grid-row: {row.y + 1}">{html.escape(row.title)}</h2>')
        for panel, image, had_data in panels:
            g = panel.grid
            queries = "\n".join(t.expr for t in panel.targets)
            items.append(
                f'<figure class="{"data" if had_data else "empty"}" data-panel-id="{panel.id}" '
                f'style="grid-column: {g.x + 1} / span {g.w}; grid-row: {g.y + 1} / span {g.h}">'
                f'<img src="{html.escape(image.relative_to(out_dir).as_posix())}" '
                f'alt="{html.escape(panel.title + ("" if had_data else " (no data)"))}" '
                f'title="{html.escape(queries)}" width="{g.width_px - GAP_PX}" height="{g.height_px - GAP_PX}"></figure>')
        sections.append(
            f'<section><h1 id="{html.escape(dashboard.uid)}">{html.escape(dashboard.title)}</h1>'
            f'<p><a href="{html.escape(picture.relative_to(out_dir).as_posix())}">whole dashboard as one PNG</a></p>'
            f'<div class="dashboard" style="grid-template-rows: repeat({dashboard.height}, auto)">'
            + "\n".join(items) + "</div></section>")
    page = out_dir / "index.html"
    page.write_text(_PAGE.format(title=html.escape(title), columns=GRID_COLUMNS, half_gap=GAP_PX // 2, width=GRID_COLUMNS * COLUMN_PX,
                                 range_text=html.escape(f"{_when(time_range.start)} → {_when(time_range.end)}"),
                                 sections="\n".join(sections)))
    return page


def _epoch(t: float | datetime) -> float:
    return t.timestamp() if isinstance(t, datetime) else float(t)


def render_dashboards(prometheus_url: str, start: float | datetime, end: float | datetime, out_dir: str | Path,
                      *, dashboards: dict[str, dict] | None = None, scrape: float | None = None,
                      title: str = "Northstar dashboards") -> list[PanelImage]:
    """Every panel of every dashboard (default: the committed ones) over [start, end] as PNGs, plus
    <out_dir>/<uid>.png per dashboard and <out_dir>/index.html. `scrape`: the scrape interval in
    seconds (default: asked from Prometheus). Returns (dashboard, panel, image path, had_data)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    time_range = TimeRange(_epoch(start), _epoch(end))
    if time_range.seconds <= 0:
        raise ValueError("end must be after start")
    if scrape is None:
        try:
            scrape = scrape_interval(prometheus_url)
        except (ValueError, OSError, KeyError):
            scrape = DEFAULT_SCRAPE_INTERVAL
    lookup = label_values_lookup(prometheus_url)
    rendered: list[PanelImage] = []
    pages = []
    for raw in (dashboards if dashboards is not None else load_dashboards(DASHBOARD_DIR)).values():
        dashboard = parse_dashboard(raw)
        panels = []
        for resolved in resolve_dashboard(dashboard, time_range, scrape, lookup):
            panel = resolved.panel
            results = [run_query(prometheus_url, q, time_range) for q in resolved.queries]
            image = out / dashboard.uid / f"{panel.id:03d}-{_slug(panel.title)}.png"
            had_data = draw_panel(panel, results, time_range, image)
            panels.append((panel, image, had_data))
            rendered.append(PanelImage(dashboard.title, panel.title, image, had_data))
        subtitle = f"{_when(time_range.start)} → {_when(time_range.end)}   ({prometheus_url})"
        picture = compose_dashboard(dashboard, {p.id: img for p, img, _ in panels}, out / f"{dashboard.uid}.png",
                                    subtitle)
        pages.append((dashboard, picture, panels))
    write_html(out, title, time_range, pages)
    return rendered


def html_page(out_dir: str | Path) -> Path:
    return Path(out_dir) / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prometheus", default=f"http://127.0.0.1:{os.environ.get('PROMETHEUS_PORT', '9090')}")
    parser.add_argument("--minutes", type=float, default=15, help="render the last N minutes")
    parser.add_argument("--out", default=".data/dashboards", help="output folder")
    args = parser.parse_args(argv)
    try:
        _api(args.prometheus, "/api/v1/status/buildinfo", timeout=5)
    except (OSError, ValueError) as exc:
        print(f"cannot reach Prometheus at {args.prometheus} ({exc}); is `make up` running?", file=sys.stderr)
        return 2
    end = time.time()
    images = render_dashboards(args.prometheus, end - args.minutes * 60, end, args.out)
    empty = [i for i in images if not i.had_data]
    print(f"{len(images)} panels rendered, {len(empty)} without data, over the last {args.minutes:g} min")
    print(html_page(args.out).resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
