"""The assertion logic: from what was observed during a scenario to a verdict with reasons.

Pure functions and plain data, no I/O, so the rules of judgement are unit-tested on their own
(`loadtests/tests/test_verdict.py`): an expected alert that does not fire, fires too late, does
not reach (or reaches the wrong) receiver or does not resolve fails the scenario; any other
alert that fires fails it too, naming the alert.

Inputs:
- `AlertRecorder`: fed with successive polls of Prometheus' `/api/v1/alerts` and Alertmanager's
  `/api/v2/alerts`, it keeps per alert name when it was first pending, first firing, last active,
  resolved, which series fired (with Prometheus' `activeAt`) and whether Alertmanager reported it
  inhibited;
- `PromTiming` per expected alert, from Prometheus' own timestamps: `activeAt` of the episode that
  fired, the evaluation that first wrote `ALERTS{alertstate="firing"}`, and the start of the
  unbroken run of evaluations in which the rule's expression held and that ended in the firing
  (`query_range` of the expression, step = evaluation interval);
- capture-server items (what Alertmanager delivered to the Slack / PagerDuty stand-ins, with the
  capture server's receive times).

Detection latency is judged from the start of that unbroken hold, not from the first moment the
expression held: a flapping expression restarts `for`, exactly as Prometheus does. Because the
hold start and the firing are both Prometheus' timestamps, a busy machine delays what is measured
and what it is compared with alike.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from loadtests.catalogue import ALL_RECEIVERS, MIN_MARGIN, Expect, Receiver, Scenario
from loadtests.rules import RuleSet, acceptance_bound, model_margin, theoretical_min

# --- observation ---------------------------------------------------------------------------------


def parse_time(text: str | None) -> float | None:
    """An RFC 3339 time from Prometheus (nanoseconds allowed) -> Unix seconds, None if absent."""
    if not text or text.startswith("0001-"):
        return None
    m = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    if not m:
        return None
    base = datetime.fromisoformat(m.group(1) + (m.group(3).replace("Z", "+00:00"))).timestamp()
    return base + (float("0." + m.group(2)) if m.group(2) else 0.0)


def unbroken_hold_start(times: list[float], until: float, step: float) -> float | None:
    """Start of the unbroken run of evaluation times (`step` apart) that contains the last time
    at or before `until` (+ half a step): where the expression began to hold for the firing."""
    held = sorted(t for t in times if t <= until + step / 2)
    if not held:
        return None
    start = held[-1]
    for t in reversed(held[:-1]):
        if start - t > step * 1.5:  # a missed evaluation: the expression did not hold there
            break
        start = t
    return start


@dataclass(frozen=True)
class PromTiming:
    """Prometheus' own timestamps for one expected alert's firing (None when not available)."""

    active_at: float | None = None  # activeAt of the episode that fired (where `for` started counting)
    fired_at: float | None = None  # the evaluation that first wrote ALERTS{alertstate="firing"}
    held_from: float | None = None  # start of the unbroken hold ending in the firing (query_range)

    @property
    def hold_start(self) -> float | None:
        """Where `for` started counting: Prometheus' activeAt, else what query_range shows."""
        return self.active_at if self.active_at is not None else self.held_from



@dataclass
class Track:
    alert: str
    first_pending: float | None = None
    first_firing: float | None = None
    last_active: float | None = None
    resolved_at: float | None = None  # first poll without the alert after it was active
    carried: bool = False  # already firing when the scenario began
    fired_series: list[dict] = field(default_factory=list)
    inhibited_by: set[str] = field(default_factory=set)
    peak_value: float | None = None
    active_at: list[tuple[dict, float]] = field(default_factory=list)  # (series, Prometheus activeAt) when first seen firing

    @property
    def fired(self) -> bool:
        return self.first_firing is not None or self.carried

    @property
    def active(self) -> bool:
        return self.last_active is not None and self.resolved_at is None


class AlertRecorder:
    """Turns polls of the alert APIs into per-alert timelines."""

    def __init__(self) -> None:
        self.tracks: dict[str, Track] = {}
        self.samples: list[tuple[float, dict[str, str]]] = []  # (t, {alert: state}) for the report
        self._started = False

    def track(self, name: str) -> Track:
        return self.tracks.setdefault(name, Track(name))

    def observe(self, t: float, prom_alerts: list[dict], am_alerts: list[dict] | None = None) -> None:
        states: dict[str, str] = {}
        for a in prom_alerts:
            name = a.get("labels", {}).get("alertname", "")
            state = a.get("state", "")
            if state not in ("pending", "firing"):
                continue
            if states.get(name) != "firing":
                states[name] = state
            tr = self.track(name)
            if state == "firing":
                labels = a.get("labels", {})
                if labels not in tr.fired_series:
                    tr.fired_series.append(labels)
                    at = parse_time(a.get("activeAt"))
                    if at is not None:
                        tr.active_at.append((labels, at))
                try:
                    value = float(a.get("value", "nan"))
                    if value == value and (tr.peak_value is None or value > tr.peak_value):
                        tr.peak_value = value
                except (TypeError, ValueError):
                    pass
        for name, state in states.items():
            tr = self.track(name)
            if not self._started and state == "firing":
                tr.carried = True
            if tr.resolved_at is not None:  # fired again after resolving: a new episode
                tr.resolved_at = None
            if state == "pending" and tr.first_pending is None:
                tr.first_pending = t
            if state == "firing" and tr.first_firing is None and not tr.carried:
                tr.first_firing = t
                if tr.first_pending is None:
                    tr.first_pending = t
            tr.last_active = t
        for name, tr in self.tracks.items():
            if name not in states and tr.last_active is not None and tr.resolved_at is None:
                tr.resolved_at = t
        if am_alerts:
            by_fp = {a.get("fingerprint"): a.get("labels", {}).get("alertname", "?") for a in am_alerts}
            for a in am_alerts:
                inhibitors = (a.get("status") or {}).get("inhibitedBy") or []
                if inhibitors:
                    name = a.get("labels", {}).get("alertname", "")
                    self.track(name).inhibited_by.update(by_fp.get(fp, fp) for fp in inhibitors)
        self.samples.append((t, states))
        self._started = True

    def active_names(self) -> set[str]:
        return {n for n, tr in self.tracks.items() if tr.active}


# --- deliveries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    receiver: Receiver
    alerts: frozenset[str]
    status: str  # "firing" | "resolved"
    at: float


def _headline(item: dict) -> list[str]:
    """The parts of a notification that name its alerts (title/summary before descriptions)."""
    payload = item.get("payload")
    if not isinstance(payload, dict):
        return [str(payload or "")]
    if item.get("kind") == "pagerduty":
        inner = payload.get("payload") or {}
        details = inner.get("custom_details") or {}
        if not isinstance(details, dict):
            details = {}
        return [str(inner.get("summary", "")), str(details.get("firing", ""))]
    # Slack: the title names the alert group; the text holds descriptions, which may mention
    # other alerts ("ServiceDown covers it"), so it is only used when there is no attachment.
    attachments = payload.get("attachments") or []
    if not attachments:
        return [str(payload.get("text", ""))]
    return [str(att.get(k, "")) for att in attachments for k in ("title", "fallback")]


def _status(item: dict) -> str:
    payload = item.get("payload")
    if item.get("kind") == "pagerduty" and isinstance(payload, dict):
        return "resolved" if payload.get("event_action") == "resolve" else "firing"
    text = " ".join(_headline(item)).upper()
    head = text.lstrip()[:40]
    return "resolved" if "RESOLVED" in head and "FIRING" not in head else "firing"


def parse_deliveries(items: list[dict], alert_names: list[str]) -> list[Delivery]:
    """Capture-server items (kind slack/pagerduty) -> deliveries naming the known alerts they carry."""
    pats = {n: re.compile(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])") for n in alert_names}
    out = []
    for item in items:
        kind = item.get("kind")
        if kind not in ("slack", "pagerduty"):
            continue
        channel = str(item.get("channel", "")).lstrip("#")
        receiver = Receiver("slack", channel) if kind == "slack" else Receiver("pagerduty")
        text = " ".join(_headline(item))
        names = {n for n, p in pats.items() if p.search(text)}
        out.append(Delivery(receiver, frozenset(names), _status(item), float(item.get("received_at", 0))))
    return out


# --- the verdict ---------------------------------------------------------------------------------


@dataclass
class AlertResult:
    alert: str
    expected: bool
    fired: bool
    carried: bool = False
    latency_s: float | None = None
    measured_fill_s: float | None = None  # fault -> start of the unbroken hold that ended in the firing
    expr_held_s: float | None = None  # the same, as query_range of the expression shows it
    model_min_s: float | None = None  # for + the modelled fill (loadtests/rules.py Fill)
    theoretical_min_s: float | None = None
    bound_s: float | None = None
    receivers: dict[str, str] = field(default_factory=dict)  # receiver -> "+1.2s" | "inhibited by X" | "MISSING"
    resolved_after_s: float | None = None  # after the fault ended (negative: resolved during it)
    model_margin: float | None = None  # modelled level / threshold at the steady request rate
    measured_margin: float | None = None  # measured level / threshold (median while firing; peak if silent)
    note: str = ""

    @property
    def within_bound(self) -> bool | None:
        if self.latency_s is None or self.bound_s is None:
            return None
        return self.latency_s <= self.bound_s


@dataclass
class Verdict:
    scenario: str
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    alerts: list[AlertResult] = field(default_factory=list)
    silent_margins: dict[str, float] = field(default_factory=dict)  # alert that must stay silent -> peak level / threshold

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass
class Observed:
    """Everything judged for one scenario (times are wall-clock seconds)."""

    tracks: dict[str, Track]
    deliveries: list[Delivery]
    t_fault: float
    t_clear: float | None
    t_end: float
    data_age_s: float | None = None  # seconds of data Prometheus held at the fault
    rps_at_fault: float | None = None  # backend requests/s just before the fault
    timing: dict[str, PromTiming] = field(default_factory=dict)  # alert -> Prometheus' timestamps
    margins: dict[str, float] = field(default_factory=dict)  # alert -> measured level / threshold
    steady_rps: float | None = None  # the request rate the margin model is evaluated at
    locust_requests: int = 0
    locust_failures: int = 0
    extra_failures: list[str] = field(default_factory=list)


def _series_match(fired: list[dict], want: dict[str, str]) -> bool:
    return any(all(s.get(k) == v for k, v in want.items()) for s in fired)


def _judge_expected(sc: Scenario, e: Expect, rules: RuleSet, obs: Observed, v: Verdict) -> None:
    tr = obs.tracks.get(e.alert)
    res = AlertResult(e.alert, expected=True, fired=bool(tr and tr.fired), note=e.note)
    v.alerts.append(res)
    if e.alert not in rules:
        v.failures.append(f"{sc.name}: catalogue expects alert {e.alert}, but Prometheus has no rule of that name")
        return
    rule = rules[e.alert]
    timing = obs.timing.get(e.alert, PromTiming())
    # activeAt as /api/v1/alerts reported it for the series that fired: Prometheus' own record of
    # where `for` started (the ALERTS pending run the harness read is the fallback)
    ats = [at for labels, at in (tr.active_at if tr else []) if all(labels.get(k) == val for k, val in e.labels.items())]
    if ats:
        timing = PromTiming(min(ats), timing.fired_at, timing.held_from)
    hold = timing.hold_start
    measured = None if hold is None else round(hold - obs.t_fault, 2)
    res.model_min_s = round(theoretical_min(rule, e.fill, obs.data_age_s, obs.rps_at_fault), 2)
    res.measured_fill_s = measured
    res.expr_held_s = None if timing.held_from is None else round(timing.held_from - obs.t_fault, 2)
    rps = obs.steady_rps or obs.rps_at_fault or sc.steady_rps
    margin = model_margin(rule, e.fill, rps) if rps else None
    res.model_margin = None if margin is None else round(margin, 2)
    res.measured_margin = obs.margins.get(e.alert)
    res.theoretical_min_s = round(theoretical_min(rule, e.fill, obs.data_age_s, obs.rps_at_fault, measured), 2)
    res.bound_s = round(acceptance_bound(rule, e.fill, rules, obs.data_age_s, obs.rps_at_fault, measured), 2)
    if not tr or not tr.fired:
        pending = (f"; it was pending from +{tr.first_pending - obs.t_fault:.1f}s but never fired"
                   if tr and tr.first_pending else "; it was never even pending")
        v.failures.append(f"{sc.name}: expected alert {e.alert} did not fire "
                          f"({obs.t_end - obs.t_fault:.0f}s after the fault{pending})")
        return
    res.carried = tr.carried
    if tr.carried:
        res.note = (res.note + "; " if res.note else "") + "already firing when the scenario began"
    if e.labels and tr.fired_series and not _series_match(tr.fired_series, e.labels):
        v.failures.append(f"{sc.name}: {e.alert} fired, but not for {e.labels} (fired: {tr.fired_series})")
    fired_at = timing.fired_at
    if fired_at is None and tr.first_firing is not None:  # not in Prometheus' ALERTS: the poll that saw it
        fired_at = tr.first_firing
    if fired_at is not None:
        res.latency_s = round(fired_at - obs.t_fault, 2)
        if res.latency_s < 0:
            v.failures.append(f"{sc.name}: {e.alert} fired {-res.latency_s:.1f}s before the fault was injected")
        if res.within_bound is False:
            v.failures.append(
                f"{sc.name}: {e.alert} fired {res.latency_s:.1f}s after the fault, later than its bound "
                f"{res.bound_s:.1f}s (theoretical minimum {res.theoretical_min_s:.1f}s = for {rule.for_s:g}s + "
                f"window fill {res.theoretical_min_s - rule.for_s:.1f}s, the start of the unbroken hold that "
                f"ended in the firing; + 2 evaluations + 1 scrape)")
    # receivers
    since = obs.t_fault if not tr.carried else 0.0
    for r in ALL_RECEIVERS:
        got = [d for d in obs.deliveries if d.receiver == r and e.alert in d.alerts
               and d.status == "firing" and d.at >= since]
        if r in e.receivers:
            if got:
                res.receivers[str(r)] = f"+{min(d.at for d in got) - obs.t_fault:.1f}s"
            elif tr.inhibited_by:
                res.receivers[str(r)] = "inhibited by " + ", ".join(sorted(tr.inhibited_by))
            elif tr.carried:
                res.receivers[str(r)] = "notified before this scenario"
            else:
                res.receivers[str(r)] = "MISSING"
                v.failures.append(f"{sc.name}: {e.alert} fired but never reached {r}")
        elif got:
            v.failures.append(f"{sc.name}: {e.alert} was delivered to {r}, which must not receive it "
                              f"(expected only {', '.join(map(str, e.receivers)) or 'no receiver'})")
    # resolution
    if tr.resolved_at is not None and obs.t_clear is not None:
        res.resolved_after_s = round(tr.resolved_at - obs.t_clear, 2)
    if e.resolves and tr.resolved_at is None:
        after = f"{obs.t_end - obs.t_clear:.0f}s after the fault ended" if obs.t_clear else "by the end"
        v.failures.append(f"{sc.name}: {e.alert} did not resolve ({after})")


def evaluate(sc: Scenario, rules: RuleSet, obs: Observed) -> Verdict:
    """Judge one scenario. Every failure message names the scenario and the alert."""
    v = Verdict(sc.name)
    for e in sc.expect:
        _judge_expected(sc, e, rules, obs, v)
    expected = sc.expected_names
    v.silent_margins = {n: m for n, m in sorted(obs.margins.items())
                        if n not in expected and n not in sc.may_fire and not (n in obs.tracks and obs.tracks[n].carried)}
    for name, m in v.silent_margins.items():
        if m >= 1 / MIN_MARGIN:
            v.notes.append(f"{name} must stay silent but reached {m:.2f}x its threshold (wanted below {1 / MIN_MARGIN:.2f}x)")
    clean_start = not sc.expect and sc.fault.kind == "none"
    for name, tr in sorted(obs.tracks.items()):
        if name in expected or not tr.fired:
            continue
        when = f"+{tr.first_firing - obs.t_fault:.1f}s" if tr.first_firing else "at the start"
        if name in sc.may_fire:
            v.alerts.append(AlertResult(name, expected=False, fired=True, carried=tr.carried,
                                        note=f"allowed: {sc.may_fire[name]}"))
            continue
        if tr.carried and not clean_start:
            v.alerts.append(AlertResult(name, expected=False, fired=True, carried=True,
                                        note="still firing from an earlier scenario"))
            continue
        v.alerts.append(AlertResult(name, expected=False, fired=True, carried=tr.carried, note="UNEXPECTED"))
        series = ", ".join(json.dumps({k: v for k, v in s.items() if k != "alertname"}) for s in tr.fired_series[:3])
        v.failures.append(f"{sc.name}: alert {name} fired ({when}) but must stay silent in this scenario"
                          + (f" [{series}]" if series else ""))
    # deliveries of alerts that must stay silent (Prometheus-side firing is judged above)
    silent_delivered = {n for d in obs.deliveries if d.status == "firing" and d.at >= obs.t_fault
                        for n in d.alerts} - expected - set(sc.may_fire)
    for name in sorted(silent_delivered):
        tr = obs.tracks.get(name)
        if tr is None or (not tr.fired):
            v.failures.append(f"{sc.name}: a notification for {name} was delivered, but it must stay silent")
    if sc.max_failure_ratio is not None and obs.locust_requests:
        ratio = obs.locust_failures / obs.locust_requests
        if ratio > sc.max_failure_ratio:
            v.failures.append(f"{sc.name}: {obs.locust_failures} of {obs.locust_requests} requests failed "
                              f"({ratio:.2%}), more than the {sc.max_failure_ratio:.2%} this scenario allows")
    v.failures.extend(f"{sc.name}: {msg}" for msg in obs.extra_failures)
    return v
