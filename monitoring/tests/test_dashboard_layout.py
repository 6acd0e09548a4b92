"""Dashboard JSON -> rows, panels, grid and queries with Grafana's variables resolved (no network)."""

import pytest

from monitoring.dashboards.layout import (TimeRange, format_duration, interpolate, legend, panel_timing,
                                          parse_dashboard, parse_duration, resolve_dashboard, round_interval,
                                          variable_values)
from monitoring.dashboards.queries import load_dashboards
from monitoring.dashboards.units import format_value

FIFTEEN_MIN = TimeRange(1_700_000_000, 1_700_000_900)


def _target(expr, legend_format="", **extra):
    return {"refId": "A", "expr": expr, "legendFormat": legend_format, **extra}


SYNTHETIC = {
    "uid": "synthetic", "title": "Synthetic",
    "templating": {"list": [
        {"name": "ds", "type": "datasource", "query": "prometheus"},
        {"name": "job", "type": "custom", "query": "backend,worker", "current": {"value": "worker"}},
        {"name": "quantile", "type": "constant", "query": "0.99"},
        {"name": "route", "type": "query", "query": {"query": 'label_values(http_requests_total{job="backend"}, route)'},
         "multi": True},
        {"name": "code", "type": "custom", "query": "500,503", "current": {"value": ["500", "503"]}},
        {"name": "window", "type": "interval", "query": "5m,1h"},
    ]},
    "panels": [
        {"type": "row", "title": "Second", "gridPos": {"x": 0, "y": 9, "w": 24, "h": 1}, "collapsed": True,
         "panels": [{"id": 4, "type": "stat", "title": "Nested stat", "gridPos": {"x": 0, "y": 10, "w": 6, "h": 4},
                     "options": {"reduceOptions": {"calcs": ["mean"]}},
                     "targets": [_target("sum(up)", instant=True)]}]},
        {"type": "row", "title": "First", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1}},
        {"id": 2, "type": "timeseries", "title": "Latency", "gridPos": {"x": 0, "y": 1, "w": 12, "h": 8},
         "fieldConfig": {"defaults": {"unit": "s", "thresholds": {"mode": "absolute", "steps": [
             {"color": "green", "value": None}, {"color": "red", "value": 0.5}]}}},
         "targets": [_target('histogram_quantile($quantile, sum by (le) (rate(x_bucket{job="$job",'
                             'route=~"${route:regex}"}[$__rate_interval])))', "p99 {{ route }}"),
                     _target("up", hide=True)]},
        {"id": 3, "type": "gauge", "title": "Errors", "gridPos": {"x": 12, "y": 1, "w": 12, "h": 8},
         "targets": [_target('sum(increase(e{code=~"$code"}[$window])) / sum(increase(r[$__range])) '
                             'and on () label_replace(vector(1), "a", "${1}", "b", "(.*)") '
                             'and [[job]] $unknown')]},
    ],
}


def test_rows_and_panels_in_grid_order_with_their_fields():
    dash = parse_dashboard(SYNTHETIC)
    assert [r.title for r in dash.rows] == ["First", "Second"]
    assert [(p.id, p.row, p.type) for p in dash.panels] == [(2, "First", "timeseries"), (3, "First", "gauge"),
                                                            (4, "Second", "stat")]
    latency, errors, stat = dash.panels
    assert (latency.grid.x, latency.grid.w, errors.grid.x, stat.grid.y) == (0, 12, 12, 10)
    assert latency.unit == "s" and errors.unit == "short"
    assert [(t.value, t.color) for t in latency.thresholds] == [(0.5, "red")] and latency.base_color == "green"
    assert latency.targets[1].hidden and stat.targets[0].instant and stat.reduce == "mean"
    assert dash.height == 14


def test_interval_follows_grafana_rules():
    panel = parse_dashboard(SYNTHETIC).panels[0]  # 12 columns wide = 900 px
    assert round_interval(1_000) == 1_000 and round_interval(24_000) == 20_000 and round_interval(80_000) == 60_000
    # 15 min over 900 px is 1 s; the scrape interval is the floor; rate interval >= 4 scrapes.
    assert panel_timing(panel, FIFTEEN_MIN, 15).interval == 15
    assert panel_timing(panel, FIFTEEN_MIN, 15).rate_interval == 60
    assert panel_timing(panel, FIFTEEN_MIN, 1).interval == 1 and panel_timing(panel, FIFTEEN_MIN, 1).rate_interval == 4
    six_hours = TimeRange(0, 6 * 3600)  # 24 s per pixel -> 20 s; + scrape 1 s
    assert panel_timing(panel, six_hours, 1).interval == 20 and panel_timing(panel, six_hours, 1).rate_interval == 21


def test_durations():
    assert parse_duration("1m30s") == 90 and parse_duration("500ms") == 0.5 and parse_duration("15s") == 15
    with pytest.raises(ValueError):
        parse_duration("5 minutes")
    assert [format_duration(s) for s in (60, 90, 4, 0.5, 3600)] == ["1m", "90s", "4s", "500ms", "1h"]


def test_variables_resolve_to_one_instance():
    dash = parse_dashboard(SYNTHETIC)
    asked = []

    def label_values(match, label):
        asked.append((match, label))
        return ["/api/projects", "/api/tasks"]

    values = variable_values(dash, label_values)
    assert asked == [('http_requests_total{job="backend"}', "route")]
    assert values == {"ds": ["prometheus"], "job": ["worker"], "quantile": ["0.99"], "route": ["/api/projects"],
                      "code": ["500", "503"], "window": ["5m"]}
    latency, errors, stat = resolve_dashboard(dash, FIFTEEN_MIN, 1, label_values)
    assert [q.expr for q in latency.queries] == [  # the hidden target is not run
        'histogram_quantile(0.99, sum by (le) (rate(x_bucket{job="worker",route=~"(/api/projects)"}[4s])))']
    assert errors.queries[0].expr == (
        'sum(increase(e{code=~"500|503"}[5m])) / sum(increase(r[900s])) '
        'and on () label_replace(vector(1), "a", "${1}", "b", "(.*)") and worker $unknown')
    assert latency.queries[0].step == 1 and stat.queries[0].target.instant


def test_committed_dashboards_resolve_completely_and_tile_the_grid():
    for raw in load_dashboards().values():
        dash = parse_dashboard(raw)
        assert dash.panels and dash.rows
        cells = {}
        for p in dash.panels:
            assert 0 <= p.grid.x and p.grid.x + p.grid.w <= 24 and p.targets, p.title
            for x in range(p.grid.x, p.grid.x + p.grid.w):
                for y in range(p.grid.y, p.grid.y + p.grid.h):
                    assert (x, y) not in cells, f"{p.title} overlaps {cells[(x, y)]}"
                    cells[(x, y)] = p.title
        assert not {(x, r.y) for r in dash.rows for x in range(24)} & cells.keys()
        for resolved in resolve_dashboard(dash, FIFTEEN_MIN, 15):
            for q in resolved.queries:
                assert "$" not in q.expr.replace("${1}", ""), q.expr
                assert q.step == 15


def test_legend_format():
    labels = {"__name__": "up", "job": "backend", "instance": "127.0.0.1:8001"}
    assert legend("{{job}} {{ instance }}", labels) == "backend 127.0.0.1:8001"
    assert legend("{{missing}}x", labels) == "x"
    assert legend("", labels) == 'up{instance="127.0.0.1:8001", job="backend"}'
    assert legend("__auto", {}) == "value"


@pytest.mark.parametrize(("value", "unit", "text"), [
    (0.25, "s", "250 ms"), (1.5, "s", "1.5 s"), (0.0004, "s", "400 µs"), (90, "s", "1.5 min"), (250, "ms", "250 ms"),
    (0.123, "percentunit", "12.3%"), (42, "percent", "42%"), (1536, "bytes", "1.5 KiB"),
    (3 * 1024 ** 3, "bytes", "3 GiB"), (2048, "Bps", "2 KiB/s"), (12.5, "reqps", "12.5 req/s"),
    (1500, "reqps", "1.5k req/s"), (0.05, "ops", "0.05 ops/s"), (2500, "short", "2.5 K"), (0, "short", "0"),
    (float("nan"), "s", "–"), (3, "widgets", "3 widgets"),
])
def test_units(value, unit, text):
    assert format_value(value, unit) == text
