"""The HA delivery counts (loadtests/ha_checks.py) on capture-server items shaped like Alertmanager's."""

from __future__ import annotations

from loadtests import ha_checks
from loadtests.catalogue import BY_NAME

NAMES = ["HighErrorRate", "ErrorStorm", "AvailabilityBudgetBurnPage", "ErrorBurst"]


def pd(alert: str, at: float, action: str = "trigger", key: str = "g1") -> dict:
    return {"kind": "pagerduty", "received_at": at,
            "payload": {"event_action": action, "dedup_key": key,
                        "payload": {"summary": f"[FIRING:1] {alert} backend", "custom_details": {}}}}


def slack(alert: str, at: float, state: str = "FIRING") -> dict:
    return {"kind": "slack", "channel": "#alerts", "received_at": at,
            "payload": {"attachments": [{"title": f"[{state}:1] {alert} (backend critical)"}]}}


def test_one_notification_each_passes_and_is_counted():
    sc = BY_NAME["ha_monitoring_loss"]
    c = ha_checks.count(sc, [pd("HighErrorRate", 10), slack("HighErrorRate", 10)], NAMES, t_off=50)
    assert c.failures == [] and c.pages == {"HighErrorRate": {"g1": 1}} and c.slack == {"HighErrorRate": {"alerts": 1}}


def test_a_second_page_for_the_same_group_and_an_early_resolve_fail():
    sc = BY_NAME["ha_monitoring_loss"]
    items = [pd("HighErrorRate", 10), pd("HighErrorRate", 30), slack("ErrorStorm", 12), slack("ErrorStorm", 31),
             pd("HighErrorRate", 40, action="resolve")]
    c = ha_checks.count(sc, items, NAMES, t_off=50)
    assert len(c.failures) == 3, c.failures
    assert any("paged 2 times" in f for f in c.failures) and any("Slack #alerts 2 times" in f for f in c.failures)
    assert any("resolved" in f for f in c.failures)


def test_resolves_after_the_fault_and_carried_alerts_are_not_counted():
    sc = BY_NAME["ha_monitoring_loss"]
    items = [pd("HighErrorRate", 10), pd("HighErrorRate", 60, action="resolve"), slack("ErrorStorm", 12),
             slack("ErrorStorm", 13)]
    c = ha_checks.count(sc, items, NAMES, t_off=50, carried={"ErrorStorm"})
    assert c.failures == []


def test_the_fault_window_ends_when_switching_off_begins():
    """Switching off began at 50 and restarted the instance until 70: the resolve and the
    re-notification Alertmanager sends meanwhile are the recovery; a duplicate before 50 still fails."""
    sc = BY_NAME["ha_instance_lost"]
    names = NAMES + ["BackendInstanceDown"]
    recovery = [slack("BackendInstanceDown", 55), slack("BackendInstanceDown", 62, state="RESOLVED"),
                pd("BackendInstanceDown", 63, action="resolve")]
    ok = ha_checks.count(sc, [slack("BackendInstanceDown", 10), *recovery], names, t_off=50)
    assert ok.failures == [] and ok.slack == {"BackendInstanceDown": {"alerts": 1}}
    dup = ha_checks.count(sc, [slack("BackendInstanceDown", 10), slack("BackendInstanceDown", 40), *recovery],
                          names, t_off=50)
    assert dup.failures == ["ha_instance_lost: BackendInstanceDown reached Slack #alerts 2 times"], dup.failures
    early = ha_checks.count(sc, [slack("BackendInstanceDown", 10), slack("BackendInstanceDown", 45, state="RESOLVED")],
                            names, t_off=50)
    assert any("resolved 1x while the fault was still on" in f for f in early.failures), early.failures
