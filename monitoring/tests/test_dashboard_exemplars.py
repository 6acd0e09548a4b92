"""The dashboards-as-pictures renderer marks exemplars as Grafana does (offline: a drawn panel)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from monitoring.dashboards.layout import GridPos, Panel, ResolvedQuery, Target, TimeRange, parse_dashboard
from monitoring.dashboards.queries import load_dashboards
from monitoring.dashboards.render import EXEMPLAR_COLOR, QueryResult, Series, draw_panel


def _pixels_of(path, hex_color: str) -> int:
    rgb = np.array(Image.open(path).convert("RGB")).reshape(-1, 3).astype(int)
    want = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(rgb - want).sum(axis=1) < 30).sum())


def _draw(tmp_path, name: str, exemplars: list[tuple[float, float]]):
    target = Target("A", "histogram_quantile(0.95, ...)", "p95", exemplar=True)
    panel = Panel(1, "timeseries", "p95 latency", "Application", GridPos(0, 0, 12, 8), (target,), unit="s")
    times = 1_000_000.0 + np.arange(0, 600, 15.0)
    result = QueryResult(ResolvedQuery(target, target.expr, 15.0), [Series("p95", times, np.full(len(times), 0.2))],
                         exemplars=exemplars)
    path = tmp_path / f"{name}.png"
    assert draw_panel(panel, [result], TimeRange(times[0], times[-1]), path)
    return path


def test_exemplars_are_drawn_as_dots(tmp_path):
    without = _draw(tmp_path, "without", [])
    with_marks = _draw(tmp_path, "with", [(1_000_100.0, 0.6), (1_000_300.0, 0.65), (1_000_500.0, 0.7)])
    assert _pixels_of(without, EXEMPLAR_COLOR) == 0
    assert _pixels_of(with_marks, EXEMPLAR_COLOR) > 10


def test_the_committed_latency_panels_ask_the_renderer_for_exemplars():
    dashboard = parse_dashboard(load_dashboards()["northstar-overview"])
    asking = {p.title for p in dashboard.panels for t in p.targets if t.exemplar}
    assert asking == {"Latency p50 / p95 / p99", "p95 latency by route"}
