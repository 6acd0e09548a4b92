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
