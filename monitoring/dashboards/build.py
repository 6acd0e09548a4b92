"""Dashboards as code: panels.py specs -> Grafana JSON through grafana-foundation-sdk."""

from __future__ import annotations

import json

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from monitoring.dashboards.panels import DASHBOARDS, DashboardSpec, PanelSpec

# The provisioned datasource (monitoring/grafana/provisioning/datasources/prometheus.yml).
DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")
FAULT_NOTE = "Needs a fault to show data: scenario `{}`."


def panel_description(spec: PanelSpec) -> str:
    parts = [spec.description] if spec.description else []
    if spec.requires_fault:
        parts.append(FAULT_NOTE.format(spec.requires_fault))
    return " ".join(parts)


def _panel(spec: PanelSpec, panel_id: int):
    builder = (stat.Panel() if spec.kind == "stat" else timeseries.Panel())
    builder = builder.id(panel_id).title(spec.title).datasource(DATASOURCE).unit(spec.unit).span(spec.width).height(8)
    if description := panel_description(spec):
        builder = builder.description(description)
    for i, query in enumerate(spec.queries):
        target = prometheus.Dataquery().expr(query.expr).ref_id(chr(ord("A") + i)).datasource(DATASOURCE)
        if query.legend:
            target = target.legend_format(query.legend)
        if query.exemplar:
            target = target.exemplar(True)
        if spec.kind == "stat":
            target = target.instant()
        builder = builder.with_target(target)
    return builder


def build_dashboard(spec: DashboardSpec) -> dict:
    builder = (dashboard.Dashboard(spec.title).uid(spec.uid).description(spec.description)
               .tags(["northstar", "generated"]).refresh("30s").time("now-1h", "now").timezone("browser"))
    panel_id = 1
    for row in spec.rows:
        builder = builder.with_row(dashboard.Row(row.title).id(panel_id))
        panel_id += 1
        for panel in row.panels:
            builder = builder.with_panel(_panel(panel, panel_id))
            panel_id += 1
    return json.loads(json.dumps(builder.build(), cls=JSONEncoder))


def render_dashboards() -> dict[str, dict]:
    """File name -> dashboard JSON (as a dict)."""
    return {f"{spec.uid}.json": build_dashboard(spec) for spec in DASHBOARDS}
