"""Rule metadata extraction and the theoretical detection minimum (no stack needed)."""

from __future__ import annotations

import pytest

from loadtests.rules import Fill, acceptance_bound, from_prometheus, from_rule_files, parse_duration, thresholds_of


def test_durations() -> None:
    assert parse_duration("1h30m") == 5400
    assert parse_duration("750ms") == 0.75
    assert parse_duration(None) == 0
    with pytest.raises(ValueError):
        parse_duration("5 minutes")


@pytest.mark.parametrize(("expr", "want"), [
    ("x > 0.05 and on (service) y > 0.1", (0.05, 0.1)),
    ('slo:r5m{slo="a"} / 0.001 > 14.4 and on (service) slo:r1h / 0.001 > 14.4', (0.0144, 0.0144)),
    ("up == 0", (0.0,)),
    ("max(age) > 15\nor max(depth) > 5000", (15.0, 5000.0)),
    ("a > 1.2 * (a offset 1h)", (1.2,)),
])
def test_thresholds(expr: str, want: tuple[float, ...]) -> None:
    assert thresholds_of(expr) == pytest.approx(want)


def test_windows_follow_recording_rules_and_prometheus_api_matches_files() -> None:
    files = [{"groups": [{"rules": [
        {"record": "r:errors:ratio_rate5m", "expr": "sum(rate(e[15s])) / sum(rate(t[15s]))"},
        {"record": "r:errors:ratio_rate1h", "expr": "sum(rate(e[3m])) / sum(rate(t[3m]))"},
        {"alert": "Burn", "expr": "r:errors:ratio_rate5m / 0.001 > 14.4 and r:errors:ratio_rate1h / 0.001 > 14.4",
         "labels": {"severity": "critical"}},
    ]}]}]
    api = [{"rules": [
        {"type": "recording", "name": "r:errors:ratio_rate5m", "query": "sum(rate(e[15s])) / sum(rate(t[15s]))"},
        {"type": "recording", "name": "r:errors:ratio_rate1h", "query": "sum(rate(e[3m])) / sum(rate(t[3m]))"},
        {"type": "alerting", "name": "Burn", "duration": 0,
         "query": "r:errors:ratio_rate5m / 0.001 > 14.4 and r:errors:ratio_rate1h / 0.001 > 14.4",
         "labels": {"severity": "critical"}},
    ]}]
    a, b = from_rule_files(files)["Burn"], from_prometheus(api, 1, 1)["Burn"]
    assert a == b
    assert a.windows == (15.0, 180.0) and a.severity == "critical"
    # 30% errors: the 3m window needs 0.0144/0.3 of its length (8.64s); with only 60s of data, of 60s
    rules = from_rule_files(files)
    assert acceptance_bound(a, Fill("ratio", 0.3), rules) == pytest.approx(8.64 + 3)
    assert acceptance_bound(a, Fill("ratio", 0.3), rules, data_age_s=60) == pytest.approx(2.88 + 3)


def test_the_monitoring_catalogue_parses() -> None:
    from monitoring.profiles import FAST
    from monitoring.rules.catalogue import rule_groups

    rules = from_rule_files(rule_groups(FAST).values())
    assert rules["HighErrorRate"].for_s == 15 and rules["HighErrorRate"].windows == (15.0,)
    assert 0.05 in rules["HighErrorRate"].thresholds


def test_margin_formula_combines_comparisons_as_the_expression_does() -> None:
    from loadtests.rules import formula_of, primary_comparison
    from monitoring.profiles import FAST
    from monitoring.rules.catalogue import rule_groups

    rules = from_rule_files(rule_groups(FAST).values())
    page = formula_of(rules["AvailabilityBudgetBurnPage"].expr)
    short, long_, short6, long6, guard = page.leaves()
    assert (short.lhs, long_.lhs, guard.lhs) == ('slo:sli_error:ratio_rate5m{slo="availability"}',
                                                 'slo:sli_error:ratio_rate1h{slo="availability"}',
                                                 "service:http_requests:rate1h")
    assert short.threshold == pytest.approx(0.0144) and short6.threshold == pytest.approx(0.006)
    # the 14.4x arm needs both windows; the 6x arm could fire alone; the traffic guard always counts
    assert page.level({short: 30, long_: 2, short6: 5, long6: 0.5, guard: 100}) == 2
    assert page.level({short: 30, long_: 0.2, short6: 5, long6: 3, guard: 100}) == 3
    assert page.level({short: 30, long_: 2, guard: 0.5}) == 0.5
    backlog = formula_of(rules["AnalyticsBacklog"].expr)
    assert backlog.op == "or" and [c.threshold for c in backlog.leaves()] == [15, 5000]
    for binary in ("ServiceDown", "NewErrorType", "TargetMissing", "BackendMetricsMissing", "LatencyRegression"):
        assert formula_of(rules[binary].expr) is None, binary
    assert primary_comparison("a > 1.2 * (a offset 1h)") is None
