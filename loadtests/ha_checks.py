"""The HA topology's delivery proofs, counted at the capture server (the PagerDuty and Slack
stand-ins): one page per incident although two Prometheus replicas send every alert to two
Alertmanagers, and no resolve while the fault is still on (a replica or member that died and came
back must neither page again nor resolve what the other still fires).

The alerts themselves are judged like every other scenario's (loadtests/verdict.py, Prometheus'
timestamps); this module only counts notifications:
- PagerDuty: trigger events per group (dedup_key = Alertmanager's group key) naming the alert;
  more than one per group is a duplicate page.
- Slack: firing messages per channel naming the alert; more than one is a duplicate.
- any resolve (PagerDuty `resolve`, Slack RESOLVED) naming an expected alert before the fault
  ended is a spurious resolve.
"During the fault" ends when switching the fault off *begins* (t_off), not when it has finished:
switching off may restart instances (ha_instance_lost, ha_all_instances_down), and the resolves and
re-notifications Alertmanager sends while they come back belong to the recovery.
A missing notification is the verdict's failure already (expectation_met); here only too many.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from loadtests.catalogue import Scenario
from loadtests.verdict import parse_deliveries


@dataclass
class DeliveryCounts:
    scenario: str
    pages: dict[str, dict[str, int]] = field(default_factory=dict)  # alert -> dedup_key -> triggers
    slack: dict[str, dict[str, int]] = field(default_factory=dict)  # alert -> channel -> firing messages
    early_resolves: dict[str, int] = field(default_factory=dict)  # alert -> resolves before the fault ended
    failures: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        for alert in sorted(set(self.pages) | set(self.slack)):
            pd = ", ".join(f"{n}x" for n in self.pages.get(alert, {}).values()) or "0"
            sl = ", ".join(f"#{c} {n}x" for c, n in self.slack.get(alert, {}).items()) or "0"
            out.append(f"| {self.scenario} | {alert} | {pd} | {sl} | {self.early_resolves.get(alert, 0)} |")
        return out


def count(sc: Scenario, items: list[dict], alert_names: list[str], t_off: float,
          carried: set[str] = frozenset()) -> DeliveryCounts:
    """items: capture-server items since the scenario began; t_off: when switching the fault off began."""
    result = DeliveryCounts(sc.name)
    expected = {e.alert for e in sc.expect} - set(carried)
    for item in items:
        if item.get("kind") not in ("pagerduty", "slack"):
            continue
        (d,) = parse_deliveries([item], alert_names)
        for alert in d.alerts & expected:
            if d.status == "resolved":
                if d.at < t_off:
                    result.early_resolves[alert] = result.early_resolves.get(alert, 0) + 1
                continue
            if d.at >= t_off:
                continue
            if d.receiver.kind == "pagerduty":
                key = str((item.get("payload") or {}).get("dedup_key", "?"))
                result.pages.setdefault(alert, Counter())[key] += 1
            else:
                result.slack.setdefault(alert, Counter())[d.receiver.channel] += 1
    for alert, groups in result.pages.items():
        for key, n in groups.items():
            if n > 1:
                result.failures.append(f"{sc.name}: {alert} paged {n} times for one group (dedup_key {key[:12]}…)")
    for alert, channels in result.slack.items():
        for channel, n in channels.items():
            if n > 1:
                result.failures.append(f"{sc.name}: {alert} reached Slack #{channel} {n} times")
    for alert, n in result.early_resolves.items():
        result.failures.append(f"{sc.name}: {alert} was resolved {n}x while the fault was still on")
    return result


TABLE_HEADER = ["| scenario | alert | PagerDuty triggers per group | Slack firing messages | resolves during the fault |",
                "|---|---|---|---|---|"]
