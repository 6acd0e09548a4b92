"""The scenario catalogue (DESIGN.md section 4), as data.

Each scenario declares its fault, the alerts that must fire (with the receivers that must get
them and how fast they can possibly fire), the alerts that may fire alongside (each with the
reason), and extra checks. Every other alert loaded into Prometheus must stay silent.

Alert names come from `monitoring/rules/catalogue.py`; `tests/test_catalogue.py` fails when a
name here is not an alert there. Receivers follow `monitoring/alertmanager/alertmanager.yml`:
critical -> PagerDuty + Slack #alerts, warning -> Slack #alerts, NewErrorType -> Slack #engineering.
A warning may be inhibited by a firing critical alert of the same service (the design's
inhibition): the harness accepts a missing warning delivery only when Alertmanager reports that
inhibition at the time, and says so in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loadtests.rules import Fill

# --- receivers (capture-server kinds and Slack channels) ---------------------------------------


@dataclass(frozen=True)
class Receiver:
    kind: str  # "pagerduty" | "slack"
    channel: str = ""  # Slack channel (the capture server's /slack/<channel> path)

    def __str__(self) -> str:
        return f"{self.kind}#{self.channel}" if self.channel else self.kind


PAGERDUTY = Receiver("pagerduty")
SLACK_ALERTS = Receiver("slack", "alerts")
SLACK_ENGINEERING = Receiver("slack", "engineering")
ALL_RECEIVERS = (PAGERDUTY, SLACK_ALERTS, SLACK_ENGINEERING)
CRITICAL = (PAGERDUTY, SLACK_ALERTS)
WARNING = (SLACK_ALERTS,)


# --- scenario parts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """How the fault is switched on (and off again).

    kind: "none" | "faults_api" (PUT `payload` to /_faults, DELETE to clear) |
          "mixpanel_down" (capture server /_control/mixpanel) | "stop_backend" (SIGTERM the
          gunicorn master recorded in the stack's pid file; restarted when the fault ends)
    payload values may be callables of the live context (e.g. pool size -> connections to hold).
    """

    kind: str = "none"
    payload: dict = field(default_factory=dict)

    def describe(self) -> str:
        if self.kind == "faults_api":
            shown = {k: ("<computed>" if callable(v) else v) for k, v in self.payload.items()}
            return f"PUT /_faults {shown}"
        return {"none": "no fault", "mixpanel_down": "capture server: Mixpanel answers 503",
                "stop_backend": "SIGTERM the backend (gunicorn master) by PID, restart after"}[self.kind]


@dataclass(frozen=True)
class Expect:
    """An alert the scenario must fire."""

    alert: str
    receivers: tuple[Receiver, ...]
    fill: Fill = Fill()
    labels: dict[str, str] = field(default_factory=dict)  # series that must fire (subset match)
    resolves: bool = True  # False: its windows outlast the run; resolution is not awaited (say why)
    note: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    fault: Fault
    expect: tuple[Expect, ...] = ()
    may_fire: dict[str, str] = field(default_factory=dict)  # alert -> why it may fire too
    users: int = 16
    user_classes: tuple[str, ...] = ("FunnelUser", "ReadHeavyUser")
    steady_seconds: float = 0.0  # steady: how long nothing may fire
    max_failure_ratio: float | None = None  # Locust failures / requests over the whole run
    checks: tuple[str, ...] = ()  # extra checks by name (see harness.EXTRA_CHECKS)
    short: bool = False  # part of the short suite run inside `make test`

    @property
    def expected_names(self) -> set[str]:
        return {e.alert for e in self.expect}


# --- the catalogue -------------------------------------------------------------------------------

ERROR_RATIO = 0.3
ADDED_LATENCY_MS = 2500
SLOW_S = ADDED_LATENCY_MS / 1000

# Why the SLO ticket alerts are not awaited: their 1x arm reads a 6h short window (18 min in the
# fast profile), so once a burst spent budget they stay firing for the rest of the run.
TICKET_STICKY = "slow-burn ticket: its 6h short window (18m in fast) outlasts the run, not awaited"


def pool_hold(ctx: dict) -> int:
    """Connections to hold per worker: just past the alert threshold, leaving the rest for traffic."""
    capacity = ctx["pool_size"] + ctx["pool_max_overflow"]
    threshold = ctx.get("pool_threshold", 0.8)
    return min(capacity - 2, int(threshold * capacity) + 2)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "steady", "Normal traffic on a healthy stack: no alert may fire and no request may fail.",
        Fault(), steady_seconds=30, max_failure_ratio=0.0, checks=("dashboards_fill",), short=True,
    ),
    Scenario(
        "error_burst", f"{ERROR_RATIO:.0%} of /api requests raise an unhandled exception (HTTP 500).",
        Fault("faults_api", {"error_ratio": ERROR_RATIO}),
        expect=(
            Expect("HighErrorRate", CRITICAL, Fill("ratio", ERROR_RATIO), {"service": "backend"}),
            Expect("ErrorBurst", WARNING, Fill("count", ERROR_RATIO)),
            Expect("ErrorStorm", CRITICAL, Fill("count", ERROR_RATIO)),
            Expect("NewErrorType", (SLACK_ENGINEERING,), note="the injected exception type is new"),
            Expect("AvailabilityBudgetBurnPage", CRITICAL, Fill("ratio", ERROR_RATIO)),
            Expect("AvailabilityBudgetBurnTicket", WARNING, Fill("ratio", ERROR_RATIO), resolves=False,
                   note=TICKET_STICKY),
        ),
        short=True,
    ),
    Scenario(
        "slow_api", f"Every /api request takes {ADDED_LATENCY_MS} ms longer.",
        Fault("faults_api", {"latency_ms": ADDED_LATENCY_MS}),
        expect=(
            # p95 crosses once 5% of the window's requests are slow
            Expect("SlowAPI", WARNING, Fill("ratio", 1.0, threshold=0.05, delay=SLOW_S), {"service": "backend"}),
            Expect("LatencyBudgetBurnPage", CRITICAL, Fill("ratio", 1.0, delay=SLOW_S)),
            Expect("LatencyBudgetBurnTicket", WARNING, Fill("ratio", 1.0, delay=SLOW_S), resolves=False,
                   note=TICKET_STICKY),
        ),
        may_fire={"LatencyRegression": "only with data one (scaled) day old; the harness starts Prometheus empty"},
        short=True,
    ),
    Scenario(
        "db_pool_exhaustion", "The backend holds most pooled DB connections (per worker), leaving two for traffic.",
        Fault("faults_api", {"db_pool_hold": pool_hold}),
        expect=(Expect("DatabaseConnectionsHigh", WARNING, labels={"service": "backend"}),),
        max_failure_ratio=0.01,
    ),
    Scenario(
        "redis_outage", "Redis is unreachable for the backend: cache and sessions fall back to PostgreSQL.",
        Fault("faults_api", {"redis_down": True}),
        expect=(Expect("CacheErrorsHigh", WARNING, Fill("ratio", 1.0), {"service": "backend"}),),
        max_failure_ratio=0.01,
    ),
    Scenario(
        "mixpanel_outage", "Mixpanel answers 503: events queue in the outbox, then all arrive exactly once.",
        Fault("mixpanel_down"),
        expect=(Expect("AnalyticsBacklog", WARNING, Fill("age"), {"service": "backend"}),),
        max_failure_ratio=0.0, checks=("outbox_exactly_once",),
    ),
    Scenario(
        "billing_timeout", "The payment provider never answers in time: upgrades return 504.",
        Fault("faults_api", {"billing_timeout": True}),
        expect=(Expect("BillingProviderFailing", WARNING, Fill("ratio", 1.0, threshold=0.25),
                       {"service": "backend"}),),
        user_classes=("FunnelUser", "ReadHeavyUser", "CheckoutUser"),
        may_fire={
            "AvailabilityBudgetBurnPage": "upgrade 504s are real 5xx; at this mix they hover near the 14.4x/6x burn",
            "AvailabilityBudgetBurnTicket": "upgrade 504s spend availability budget (1x burn)",
        },
    ),
    Scenario(
        "backend_down", "The backend process dies (SIGTERM) and is restarted after the alert.",
        Fault("stop_backend"),
        expect=(Expect("ServiceDown", CRITICAL, labels={"job": "backend"}),),
    ),
)

BY_NAME = {s.name: s for s in SCENARIOS}
SHORT = tuple(s.name for s in SCENARIOS if s.short)


def select(names: list[str] | None, short: bool) -> list[Scenario]:
    """Scenarios to run, in catalogue order (steady first: it needs a clean slate)."""
    wanted = set(names or (SHORT if short else BY_NAME))
    unknown = wanted - set(BY_NAME)
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}; known: {', '.join(BY_NAME)}")
    return [s for s in SCENARIOS if s.name in wanted]
