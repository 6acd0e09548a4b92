"""The judgement rules of the harness, on synthetic observations (no stack needed, < 1 s)."""

from __future__ import annotations

from loadtests.catalogue import (CRITICAL, PAGERDUTY, SLACK_ALERTS, WARNING, BackendFaults, Expect, NoFault, Scenario,
                                 StopBackend)
from loadtests.rules import Fill, from_rule_files
from loadtests.verdict import AlertRecorder, Observed, evaluate, parse_deliveries

RULES = from_rule_files([{"groups": [{"name": "g", "rules": [
    {"record": "svc:err:ratio5m", "expr": "sum(rate(errs[15s])) / sum(rate(reqs[15s]))"},
    {"alert": "HighErrorRate", "expr": "svc:err:ratio5m > 0.05", "for": "15s",
     "labels": {"severity": "critical"}},
    {"alert": "SlowAPI", "expr": "p95 > 2", "for": "15s", "labels": {"severity": "warning"}},
    {"alert": "ServiceDown", "expr": "up == 0", "for": "3s", "labels": {"severity": "critical"}},
]}]}])

BURST = Scenario("error_burst", "", BackendFaults({"error_ratio": 0.5}),
                 expect=(Expect("HighErrorRate", CRITICAL, Fill("ratio", 0.5)),))
STEADY = Scenario("steady", "", NoFault())
T0 = 1000.0


def firing(name: str, state: str = "firing", **labels: str) -> dict:
    return {"labels": {"alertname": name, **labels}, "state": state, "value": "0.5"}


def slack(name: str, at: float, status: str = "FIRING", channel: str = "alerts") -> dict:
    return {"kind": "slack", "channel": channel, "received_at": at,
            "payload": {"attachments": [{"title": f"[{status}:1] {name} (backend)"}]}}


def pagerduty(name: str, at: float, action: str = "trigger") -> dict:
    return {"kind": "pagerduty", "received_at": at,
            "payload": {"event_action": action, "payload": {"summary": f"[FIRING:1] {name}"}}}


def record(timeline: list[tuple[float, list[dict]]], am: list[dict] | None = None) -> AlertRecorder:
    rec = AlertRecorder()
    for t, alerts in timeline:
        rec.observe(t, alerts, am)
    return rec


def observed(rec: AlertRecorder, items: list[dict], t_clear: float = T0 + 30, t_end: float = T0 + 60) -> Observed:
    return Observed(rec.tracks, parse_deliveries(items, RULES.names()), T0, t_clear, t_end)


def good_burst_timeline() -> AlertRecorder:
    return record([(T0 - 1, []), (T0 + 5, [firing("HighErrorRate", "pending")]),
                   (T0 + 19, [firing("HighErrorRate")]), (T0 + 40, [])])


def test_expected_alert_fired_delivered_and_resolved_passes() -> None:
    v = evaluate(BURST, RULES, observed(good_burst_timeline(), [pagerduty("HighErrorRate", T0 + 20),
                                                                 slack("HighErrorRate", T0 + 20)]))
    assert v.ok, v.failures
    (res,) = v.alerts
    assert res.latency_s == 19
    # for 15s + 15s window * (0.05 / 0.5) = 16.5s; bound adds 2 evaluations + 1 scrape (1s each)
    assert res.theoretical_min_s == 16.5 and res.bound_s == 19.5
    assert res.receivers == {"pagerduty": "+20.0s", "slack#alerts": "+20.0s"}
    assert res.resolved_after_s == 10


def test_alert_that_never_fires_is_named() -> None:
    rec = record([(T0, []), (T0 + 10, [firing("HighErrorRate", "pending")]), (T0 + 60, [])])
    v = evaluate(BURST, RULES, observed(rec, []))
    assert not v.ok
    assert any("expected alert HighErrorRate did not fire" in f and "pending" in f for f in v.failures)


def test_missing_receiver_and_wrong_receiver_fail() -> None:
    v = evaluate(BURST, RULES, observed(good_burst_timeline(), [slack("HighErrorRate", T0 + 20),
                                                                 slack("HighErrorRate", T0 + 20, channel="engineering")]))
    assert any("never reached pagerduty" in f for f in v.failures)
    assert any("delivered to slack#engineering" in f for f in v.failures)


def test_inhibited_warning_counts_as_routed() -> None:
    sc = Scenario("slow_api", "", BackendFaults({"latency_ms": 3000}), expect=(Expect("SlowAPI", WARNING),))
    am = [{"fingerprint": "a", "labels": {"alertname": "SlowAPI"}, "status": {"inhibitedBy": ["b"]}},
          {"fingerprint": "b", "labels": {"alertname": "LatencyBudgetBurnPage"}, "status": {"inhibitedBy": []}}]
    rec = record([(T0, []), (T0 + 17, [firing("SlowAPI")]), (T0 + 40, [])], am)
    v = evaluate(sc, RULES, observed(rec, []))
    assert v.ok, v.failures
    assert v.alerts[0].receivers == {"slack#alerts": "inhibited by LatencyBudgetBurnPage"}


def test_too_slow_detection_fails_without_prometheus_timestamps() -> None:
    rec = record([(T0, []), (T0 + 25, [firing("HighErrorRate")]), (T0 + 50, [])])
    items = [pagerduty("HighErrorRate", T0 + 26), slack("HighErrorRate", T0 + 26)]
    assert any("later than its bound" in f for f in evaluate(BURST, RULES, observed(rec, items)).failures)


def test_unresolved_alert_fails() -> None:
    rec = record([(T0, []), (T0 + 19, [firing("HighErrorRate")]), (T0 + 60, [firing("HighErrorRate")])])
    v = evaluate(BURST, RULES, observed(rec, [pagerduty("HighErrorRate", T0 + 20), slack("HighErrorRate", T0 + 20)]))
    assert v.failures == ["error_burst: HighErrorRate did not resolve (30s after the fault ended)"]


def test_unexpected_alert_fails_and_is_named() -> None:
    rec = record([(T0, []), (T0 + 19, [firing("HighErrorRate"), firing("SlowAPI", service="backend")]), (T0 + 40, [])])
    v = evaluate(BURST, RULES, observed(rec, [pagerduty("HighErrorRate", T0 + 20), slack("HighErrorRate", T0 + 20)]))
    assert len(v.failures) == 1
    assert "alert SlowAPI fired" in v.failures[0] and "must stay silent" in v.failures[0]


def test_pending_only_is_not_a_firing() -> None:
    rec = record([(T0, []), (T0 + 5, [firing("SlowAPI", "pending")]), (T0 + 10, [])])
    assert evaluate(STEADY, RULES, observed(rec, [])).ok


def test_steady_fails_on_any_firing_alert_even_one_carried_over() -> None:
    rec = record([(T0, [firing("ServiceDown", job="nextjs")]), (T0 + 30, [firing("ServiceDown", job="nextjs")])])
    v = evaluate(STEADY, RULES, observed(rec, []))
    assert v.failures and "ServiceDown" in v.failures[0]


def test_carried_alert_is_tolerated_outside_steady() -> None:
    rec = record([(T0, [firing("SlowAPI")]), (T0 + 19, [firing("SlowAPI"), firing("HighErrorRate")]),
                  (T0 + 40, [firing("SlowAPI")])])
    v = evaluate(BURST, RULES, observed(rec, [pagerduty("HighErrorRate", T0 + 20), slack("HighErrorRate", T0 + 20)]))
    assert v.ok, v.failures
    assert any(a.alert == "SlowAPI" and a.carried for a in v.alerts)


def test_expected_label_set_must_match() -> None:
    sc = Scenario("backend_down", "", StopBackend(),
                  expect=(Expect("ServiceDown", (PAGERDUTY, SLACK_ALERTS), labels={"job": "backend"}),))
    rec = record([(T0, []), (T0 + 5, [firing("ServiceDown", job="nextjs")]), (T0 + 20, [])])
    v = evaluate(sc, RULES, observed(rec, [pagerduty("ServiceDown", T0 + 6), slack("ServiceDown", T0 + 6)]))
    assert any("not for {'job': 'backend'}" in f for f in v.failures)


def test_locust_failure_ratio_is_bounded() -> None:
    sc = Scenario("steady", "", NoFault(), max_failure_ratio=0.0)
    obs = observed(record([(T0, []), (T0 + 30, [])]), [])
    obs.locust_requests, obs.locust_failures = 1000, 3
    assert any("3 of 1000 requests failed" in f for f in evaluate(sc, RULES, obs).failures)


def test_delivery_parsing_tells_apart_names_and_status() -> None:
    items = [slack("ErrorBurst", 1.0), slack("ErrorBurst", 2.0, status="RESOLVED"), pagerduty("ErrorStorm", 3.0, "resolve")]
    ds = parse_deliveries(items, ["ErrorBurst", "ErrorStorm", "Error"])
    assert [(set(d.alerts), d.status) for d in ds] == [({"ErrorBurst"}, "firing"), ({"ErrorBurst"}, "resolved"),
                                                      ({"ErrorStorm"}, "resolved")]


def test_outbox_exactly_once_comparison() -> None:
    from loadtests.outbox import compare

    def ev(i: str) -> dict:
        return {"kind": "mixpanel", "event": {"event": "signup", "properties": {"$insert_id": i}}}

    ok = compare([("a", True), ("b", True)], [ev("a"), ev("b")])
    assert ok.failures() == []
    bad = compare([("a", True), ("b", True), ("c", False)], [ev("a"), ev("a")])
    failures = " | ".join(bad.failures())
    assert "1 of 3 business events still in the outbox" in failures
    assert "1 business events marked delivered never reached" in failures
    assert "more than once" in failures


def test_dashboard_check_lists_empty_panels_by_dashboard_and_title() -> None:
    from loadtests.dashboards import Panel, check

    panels = [Panel("Overview", "RPS", ("sum(rate(x[$__rate_interval]))",)), Panel("Overview", "Errors", ("y",))]
    res = check(lambda expr, at: [1] if expr.startswith("sum") else [], panels)
    assert res.empty == ["Overview / Errors (no data: y)"]
    assert "Overview / Errors" in (res.failure() or "")
