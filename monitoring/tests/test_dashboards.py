"""Dashboards: rows from the seed, every panel has a query, fault markers name real scenarios."""

from loadtests.catalogue import SCENARIOS as HARNESS_SCENARIOS
from monitoring.dashboards.queries import load_dashboards, panel_queries, substitute

SCENARIOS = {s.name for s in HARNESS_SCENARIOS}  # the fault catalogue, backend/app/faults/catalogue.json


def test_overview_rows():
    overview = load_dashboards()["northstar-overview"]
    rows = [p["title"] for p in overview["panels"] if p["type"] == "row"]
    assert rows == ["Application", "Database", "Infrastructure", "Business", "Frontend", "Alerts",
                    "PostgreSQL and Redis (server side)", "Observability cost"]


def test_every_panel_has_a_query_and_known_fault_markers():
    queries = panel_queries()
    panels = {(q.dashboard, q.title) for q in queries}
    for dash in load_dashboards().values():
        for p in dash["panels"]:
            if p["type"] != "row":
                assert (dash["title"], p["title"]) in panels, p["title"]
                assert p["datasource"] == {"type": "prometheus", "uid": "prometheus"}
    faults = {q.requires_fault for q in queries} - {None}
    assert faults and faults <= SCENARIOS
    assert any(q.title == "Firing alerts" and q.requires_fault == "error_burst" for q in queries)
    assert len({q.dashboard + q.title for q in queries}) > 40


def test_grafana_variables_are_substituted():
    exprs = [substitute(q.expr, "1m", "1h") for q in panel_queries()]
    assert not [e for e in exprs if "$" in e.replace("${1}", "")]


def test_latency_panels_ask_for_exemplars_of_a_histogram():
    overview = load_dashboards()["northstar-overview"]
    exemplar_targets = {p["title"]: [t["expr"] for t in p["targets"] if t.get("exemplar")]
                        for p in overview["panels"] if p["type"] != "row"}
    exemplar_targets = {title: exprs for title, exprs in exemplar_targets.items() if exprs}
    assert set(exemplar_targets) == {"Latency p50 / p95 / p99", "p95 latency by route"}
    # exemplars are attached to the raw bucket series; a recorded quantile has none
    assert all("http_request_duration_seconds_bucket" in e for exprs in exemplar_targets.values() for e in exprs)
