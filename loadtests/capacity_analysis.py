"""The capacity ramp's judgement, on plain numbers (unit-tested without a stack):

- whether a step kept the SLOs (monitoring/rules/catalogue.py's objectives: at most 1% of the
  latency SLO's requests slower than 1 s, at most 0.1% of requests failing);
- the knee: the highest step before the first step that broke an SLO;
- what saturated first: every resource's utilisation at the first breaking step (or the last step)
  against its limit, the highest first, with the knee's figure next to it as evidence;
- per alert: at which load it fired, how long after its step began, before or after the SLO broke,
  and a verdict on its threshold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from monitoring.rules.catalogue import SLO_OBJECTIVES

LATENCY_SLO_SECONDS = 1.0  # the latency SLO's bucket (catalogue.LATENCY_SLO_BUCKET)
SLOW_BUDGET = round(1 - SLO_OBJECTIVES["latency"], 6)  # share of requests allowed above 1 s
ERROR_BUDGET = round(1 - SLO_OBJECTIVES["availability"], 6)  # share of requests allowed to fail
FINE_FROM = 0.7  # an alert firing before the breach at >= 70% of capacity warns in time; below: noisy
# An alert is about load when its expression reads request, latency, SLO, pool or CPU series;
# the others (a new exception type, a missing target, Redis errors...) answer faults, not traffic.
LOAD_SIGNAL = re.compile(r"http_request|slo:|db_pool|process_cpu|in_progress|saturation")
AVAILABILITY = re.compile(r'slo="availability"|status_code=~"5|http_requests_error')
LATENCY = re.compile(r'slo="latency"|http_request_duration')


def guards(expr: str) -> str:
    """Which SLO an alert's threshold stands for: 'availability', 'latency', or 'any' (a resource:
    the pool, CPU, queueing) -- an alert is judged against the breach of the SLO it guards."""
    if AVAILABILITY.search(expr):
        return "availability"
    if LATENCY.search(expr):
        return "latency"
    return "any"


@dataclass
class Step:
    index: int
    users: int
    start: float
    end: float  # the step's measured window is [start + settle, end]
    window_start: float
    offered_rps: float | None = None
    achieved_rps: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    slow_ratio: float | None = None  # latency SLO routes slower than 1 s
    error_ratio: float | None = None  # 5xx answers plus client-side failures, of all requests
    client: dict = field(default_factory=dict)  # Locust's view: requests, failures, p50/p95/p99 (ms)
    resources: dict = field(default_factory=dict)  # name -> value (see RESOURCES)
    partial: str = ""  # why the step was cut short

    @property
    def slo_ok(self) -> bool:
        return (self.slow_ratio is not None and self.slow_ratio <= SLOW_BUDGET
                and self.error_ratio is not None and self.error_ratio <= ERROR_BUDGET)

    def broke(self, slo: str) -> bool:
        if slo == "latency":
            return self.slow_ratio is None or self.slow_ratio > SLOW_BUDGET
        if slo == "availability":
            return self.error_ratio is None or self.error_ratio > ERROR_BUDGET
        return not self.slo_ok

    def breach(self) -> str:
        """Which SLO the step broke, in words ('' when it kept both)."""
        out = []
        if self.slow_ratio is None or self.slow_ratio > SLOW_BUDGET:
            out.append("latency" if self.slow_ratio is not None else "latency (no data)")
        if self.error_ratio is None or self.error_ratio > ERROR_BUDGET:
            out.append("availability" if self.error_ratio is not None else "availability (no data)")
        return " and ".join(out)


# resource key -> (what it is, its limit: utilisation = value / limit; None: limit given at run time)
RESOURCES: dict[str, tuple[str, float | None]] = {
    "backend_cpu_per_worker": ("backend CPU per worker (one event loop each: 1.0 = a core per loop)", 1.0),
    "machine_cpu_busy": ("machine CPU busy (all cores, every process on the box)", 1.0),
    "db_pool_utilisation_max": ("DB pool utilisation (checked out / size + overflow)", 1.0),
    "inflight_per_worker": ("requests in flight per worker", None),
    "pg_active_max": ("PostgreSQL active connections of the ramp's database (peak)", None),
    "pg_waiting_max": ("PostgreSQL connections waiting on a lock (peak)", None),
    "pg_cpu_cores": ("PostgreSQL server CPU for the ramp's database (cores)", 1.0),
    "redis_cpu_cores": ("Redis server CPU (cores; server-wide)", 1.0),
}


def knee(steps: list[Step]) -> Step | None:
    """The highest step that kept both SLOs (None: none did). A step that broke one below it was a
    transient breach (on a shared machine, someone else's burst): listed, not the knee."""
    return max((s for s in steps if s.slo_ok), key=lambda s: s.users, default=None)


def first_breach(steps: list[Step]) -> Step | None:
    """The first step that broke an SLO: when users first felt it (alerts are timed against it)."""
    return next((s for s in steps if not s.slo_ok), None)


def saturating_breach(steps: list[Step]) -> Step | None:
    """The first step above the knee that broke an SLO: where load, not noise, broke it."""
    k = knee(steps)
    return next((s for s in steps if not s.slo_ok and (k is None or s.users > k.users)), None)


def transient_breaches(steps: list[Step]) -> list[Step]:
    k = knee(steps)
    return [s for s in steps if not s.slo_ok and k is not None and s.users < k.users]


@dataclass
class Saturation:
    resource: str
    label: str
    utilisation: float
    at_knee: float | None
    at_breach: float | None
    at_first: float | None = None  # at the lightest step: near the limit there = busy before the ramp

    @property
    def background(self) -> bool:
        """At its limit already at the lightest step: someone else's load, not what the ramp added."""
        return self.at_first is not None and self.at_breach is not None and self.at_first >= 0.9 * self.at_breach \
            and self.utilisation >= 0.9


def saturation(steps: list[Step], limits: dict[str, float]) -> list[Saturation]:
    """Resources by utilisation at the first breaking step (the last step if none broke), highest first."""
    if not steps:
        return []
    k, b = knee(steps), saturating_breach(steps)
    judged = b or steps[-1]
    out = []
    for key, (label, limit) in RESOURCES.items():
        limit = limits.get(key, limit)
        value = judged.resources.get(key)
        if value is None or not limit:
            continue
        out.append(Saturation(key, label, value / limit, k.resources.get(key) if k else None, value,
                              steps[0].resources.get(key)))
    # what the ramp drove to its limit first; resources already at theirs before the ramp go last
    return sorted(out, key=lambda s: (not s.background, s.utilisation), reverse=True)


def diagnosis(steps: list[Step]) -> tuple[str, list[str]]:
    """What saturated first, in words, and the evidence: the judged step (the saturating breach, or the
    last step) against the knee. A full pool with an idle PostgreSQL is a symptom (requests hold their
    connection while they wait for CPU), so CPU is read first, then the pool against PostgreSQL."""
    if not steps:
        return "nothing was measured", []
    k, b = knee(steps), saturating_breach(steps)
    j = b or steps[-1]
    x, kx = j.resources, (k.resources if k else {})

    def v(d: dict, key: str) -> float:
        return d.get(key) if d.get(key) is not None else float("nan")
    machine, per_worker, pool = v(x, "machine_cpu_busy"), v(x, "backend_cpu_per_worker"), v(x, "db_pool_utilisation_max")
    pg_active, inflight = v(x, "pg_active_max"), v(x, "inflight_per_worker")
    evidence = []
    if k is not None and j is not k:
        evidence.append(f"throughput: {k.achieved_rps or 0:.0f} req/s at the knee, {j.achieved_rps or 0:.0f} req/s at step "
                        f"{j.index + 1}" + (f" of {j.offered_rps:.0f} offered ({(j.achieved_rps or 0) / j.offered_rps:.0%})"
                                             if j.offered_rps else ""))
        evidence.append(f"requests in flight per worker: {v(kx, 'inflight_per_worker'):.1f} at the knee, {inflight:.1f} at "
                        f"step {j.index + 1} (requests queue inside the workers)")
    evidence.append(f"CPU: backend {v(x, 'backend_cpu_cores'):.2f} cores ({per_worker:.2f} per worker), machine {machine:.0%} "
                    f"busy (at the lightest step: {v(steps[0].resources, 'machine_cpu_busy'):.0%})")
    evidence.append(f"DB pool: {pool:.0%} checked out at peak, PostgreSQL {pg_active:.0f} active connection(s) of the "
                    f"ramp's database, {v(x, 'pg_waiting_max'):.0f} waiting on locks, {v(x, 'pg_cpu_cores'):.2f} cores")
    evidence.append(f"Redis: {v(x, 'redis_ops_rate'):.0f} commands/s server-wide, {v(x, 'redis_cpu_cores'):.2f} cores")
    if per_worker >= 0.8:
        what = f"the backend's event loops: {per_worker:.2f} of a core per worker"
    elif machine >= 0.9:
        what = (f"CPU: the machine was {machine:.0%} busy and the backend's workers got only {per_worker:.2f} of a core "
                "each, so requests waited for CPU")
        if pool >= POOL_FULL and pg_active < 5:
            what += (f"; the DB pool ({pool:.0%}) filled as a symptom: requests held their connection while they "
                     f"waited, PostgreSQL itself had {pg_active:.0f} active")
    elif pool >= POOL_FULL:
        what = f"the DB pool: {pool:.0%} checked out" + (
            f", PostgreSQL busy ({pg_active:.0f} active)" if pg_active >= 5 else ", with PostgreSQL mostly idle")
    else:
        what = "no single resource at its limit (latency grew with queueing)"
    return what, evidence


POOL_FULL = 0.8

# Saturation signals an alert could read, each at a threshold below its limit: (label, step figure, threshold).
CANDIDATES = [
    ("p99 latency above half the latency SLO's 1 s", lambda s: s.p99, 0.5 * LATENCY_SLO_SECONDS),
    ("backend CPU per worker above 0.8 of a core", lambda s: s.resources.get("backend_cpu_per_worker"), 0.8),
    ("DB pool above 60% (DatabaseConnectionsHigh: 80%)", lambda s: s.resources.get("db_pool_utilisation_max"), 0.6),
    ("requests in flight per worker above 10", lambda s: s.resources.get("inflight_per_worker"), 10.0),
    ("machine CPU above 90% busy", lambda s: s.resources.get("machine_cpu_busy"), 0.9),
]


@dataclass
class WhatIf:
    signal: str
    threshold: float
    first: Step | None  # the first step whose figure crossed the threshold
    share: float | None  # its achieved req/s / capacity
    verdict: str


def what_if(steps: list[Step]) -> list[WhatIf]:
    """Would an alert on each candidate signal have warned before the saturating breach, without firing
    at light load or in a transient breach? (Step figures: peaks or window quantiles, not `for`-held.)"""
    k, b = knee(steps), saturating_breach(steps)
    capacity = k.achieved_rps if k and k.achieved_rps else None
    noise = transient_breaches(steps)
    out = []
    for label, get, threshold in CANDIDATES:
        crossed = [s for s in steps if get(s) is not None and get(s) > threshold]
        first = crossed[0] if crossed else None
        share = (load_of(first) / capacity) if first and load_of(first) and capacity else None
        if first is None:
            verdict = "never crossed: would not warn"
        elif b is not None and first.users >= b.users:
            verdict = "crossed only with the SLO already broken: late"
        elif first is steps[0] or (share is not None and share < FINE_FROM):
            verdict = f"crossed at {share:.0%} of capacity: noisy" if share is not None else "crossed at the lightest step: noisy"
        elif any(s in noise for s in crossed):
            verdict = "also crossed in a transient breach: would fire on someone else's burst"
        else:
            verdict = f"crossed at {share:.0%} of capacity, before the breach: would warn in time" if share else "would warn"
        out.append(WhatIf(label, threshold, first, share, verdict))
    return out


@dataclass
class AlertEvent:
    alert: str
    severity: str
    load_signal: bool
    first_pending: float | None
    first_firing: float | None
    peak_level: float | None = None  # highest level / threshold over the ramp (None: binary rule)
    carried: bool = False  # already firing when the ramp began (from the warm-up)
    warmup_fired_s: float | None = None  # fired during the warm-up, this long after it began
    guards: str = "any"  # the SLO its threshold stands for (guards())
    needs_history: bool = False  # compares with the past (`offset`): a fresh Prometheus cannot judge it


@dataclass
class AlertVerdict:
    alert: str
    severity: str
    state: str  # "fired", "pending only", "silent"
    step: Step | None
    after_step_start_s: float | None
    vs_breach_s: float | None  # firing time - breach time (negative: before users felt it)
    capacity_share: float | None  # load at firing / capacity (the knee's achieved req/s)
    verdict: str
    sentence: str


def load_of(s: Step) -> float | None:
    """A step's load: what its users offered (achieved collapses past the knee), else what was served."""
    return s.offered_rps or s.achieved_rps


def step_at(steps: list[Step], t: float) -> Step | None:
    for s in steps:
        if s.start <= t < s.end:
            return s
    return steps[-1] if steps and t >= steps[-1].end else None


def judge_alert(e: AlertEvent, steps: list[Step]) -> AlertVerdict:
    """Timed against the first step that broke the SLO the alert guards (any SLO for a resource alert)."""
    k = knee(steps)
    b = next((s for s in steps if s.broke(e.guards)), None)
    slo = "an SLO" if e.guards == "any" else f"the {e.guards} SLO"
    capacity = k.achieved_rps if k and k.achieved_rps else None
    breach_t = b.start if b else None
    level = f" (peak level {e.peak_level:.2f}x its threshold)" if e.peak_level is not None else ""
    cold = (f"; it also fired {e.warmup_fired_s:.0f} s into the warm-up (a cold backend on a young Prometheus)"
            if e.warmup_fired_s is not None else "")
    if e.carried:
        verdict = "firing since the warm-up, not judged against the ramp (slow-burn window)"
        return AlertVerdict(e.alert, e.severity, "carried", None, None, None, None, verdict,
                            f"**{e.alert}** was firing from the warm-up on{level}: {verdict}{cold}.")
    if e.first_firing is None:
        state = "pending only" if e.first_pending is not None else "silent"
        st = step_at(steps, e.first_pending) if e.first_pending else None
        if not e.load_signal and st is not None:
            verdict = ("not a load signal, yet pending under load: close to a false "
                       + ("page" if e.severity == "critical" else "alert"))
        elif not e.load_signal:
            verdict = "not a load signal: silent under load, as it should be"
        elif e.needs_history:
            verdict = "not judged: it compares with the past (offset), which the ramp's fresh Prometheus does not hold"
        elif b is None and any(not s.slo_ok for s in steps):
            verdict = f"not judged: {slo} held through the ramp (another SLO broke)"
        elif b is None:
            verdict = "not judged: the ramp ended before saturation"
        else:
            verdict = "never fires before saturation: threshold too high"
        pend = (f"; pending from step {st.index + 1} ({st.users} users)" if st else "")
        sentence = f"**{e.alert}** never fired during the ramp{pend}{level}: {verdict}{cold}."
        return AlertVerdict(e.alert, e.severity, state, st, None, None, None, verdict, sentence)
    st = step_at(steps, e.first_firing)
    after = e.first_firing - st.start if st else None
    rps = load_of(st) if st else None
    share = (rps / capacity) if rps is not None and capacity else None
    vs = e.first_firing - breach_t if breach_t is not None else None
    where = (f"at step {st.index + 1} ({st.users} users, {rps:.0f} req/s {'offered' if st.offered_rps else 'achieved'}"
             + (f", {share:.0%} of capacity" if share is not None else "") + f"), {after:.0f} s into the step"
             if st and rps is not None else "during the ramp")
    page = e.severity == "critical"
    if vs is not None and vs >= 0:
        verdict = f"fires {vs:.0f} s after users felt the breach of {slo}: late" + (" (a page after the SLO broke)" if page else "")
    elif share is not None and share >= FINE_FROM:
        verdict = f"fires at {share:.0%} of capacity, before {slo} broke: fine"
    elif b is None and capacity is None:
        verdict = "fires while every SLO held (capacity not reached): noisy" + (" (a false page)" if page else "")
    else:
        shown = f"{share:.0%} of capacity" if share is not None else "below capacity"
        verdict = f"fires at {shown} with {slo} intact: noisy" + (" (a false page)" if page else "")
    if not e.load_signal and "fine" not in verdict:
        verdict += "; not a load signal, yet load made it fire"
    sentence = f"**{e.alert}** fired {where}: {verdict}{cold}."
    return AlertVerdict(e.alert, e.severity, "fired", st, after, vs, share, verdict, sentence)


def answer(steps: list[Step], sat: list[Saturation]) -> str:
    """The ramp's result in one sentence."""
    k, b = knee(steps), saturating_breach(steps)
    if not steps:
        return "The ramp recorded no step."
    what = f"; what saturated first: {diagnosis(steps)[0]}"
    if b is None and k is steps[-1]:
        return (f"Every step kept the SLOs up to {steps[-1].users} users "
                f"({steps[-1].achieved_rps or 0:.0f} req/s): capacity is above the ramp's maximum{what}.")
    if k is None:
        b = first_breach(steps)
        return (f"The first step ({b.users} users) already broke the {b.breach()} SLO and none after kept it{what}.")
    if b is None:  # the knee is the last step that kept them; the steps after it were cut or broke
        return (f"The knee is step {k.index + 1}: {k.users} users, {k.achieved_rps or 0:.0f} req/s{what}.")
    noise = transient_breaches(steps)
    below = (f" (step {', '.join(str(s.index + 1) for s in noise)} below it broke an SLO for a while and the next "
             "step held again: a transient breach)" if noise else "")
    return (f"The knee is step {k.index + 1}: {k.users} users, {k.achieved_rps or 0:.0f} req/s kept both SLOs{below}; "
            f"step {b.index + 1} ({b.users} users, {b.achieved_rps or 0:.0f} req/s) broke the {b.breach()} SLO{what}.")
