"""The scenario catalogue, read from the one fault catalogue file (backend/app/faults/catalogue.json).

That file lists every fault knob (type, bounds, description) and every scenario: its fault, its
traffic, the alerts that must fire with the receivers that must get them, and the alerts that may
fire alongside (each with the reason). Every other alert loaded into Prometheus must stay silent.
This module turns it into objects for the harness, `tune` and the tests:

- each fault kind is one object with `on(target)`, `off(target)` and `describe()`; `target` is
  anything with `faults` (the /_faults client), `capture` (the capture server) and `stack`;
- `Scenario` / `Expect` carry the expectations; `Fill` the detection model (loadtests/rules.py).

A warning may be inhibited by a firing critical alert of the same service (the design's
inhibition): the harness accepts a missing warning delivery only when Alertmanager reports that
inhibition at the time, and says so in the report. `loadtests/tests/test_catalogue.py` checks the
file against monitoring/rules/catalogue.py both ways.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from infra.product import PRODUCT
from loadtests.rules import Fill

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE_FILE = ROOT / "backend" / "app" / "faults" / "catalogue.json"
DATA: dict[str, Any] = json.loads(CATALOGUE_FILE.read_text())
KNOBS: dict[str, dict[str, Any]] = DATA["knobs"]
NOT_TESTABLE_LIVE: dict[str, str] = DATA["not_testable_live"]
MIN_MARGIN: float = DATA["margin"]["min_ratio"]

# --- receivers (capture-server kinds and Slack channels) ---------------------------------------


@dataclass(frozen=True)
class Receiver:
    kind: str  # "pagerduty" | "slack"
    channel: str = ""  # Slack channel (the capture server's /slack/<channel> path)

    def __str__(self) -> str:
        return f"{self.kind}#{self.channel}" if self.channel else self.kind

    @classmethod
    def parse(cls, text: str) -> Receiver:
        kind, _, channel = text.partition("#")
        return cls(kind, channel)


RECEIVER_GROUPS: dict[str, tuple[Receiver, ...]] = {
    name: tuple(Receiver.parse(r) for r in group) for name, group in DATA["receivers"].items() if not name.startswith("$")}
PAGERDUTY, SLACK_ALERTS = RECEIVER_GROUPS["critical"]
SLACK_ENGINEERING = RECEIVER_GROUPS["engineering"][0]
ALL_RECEIVERS = (PAGERDUTY, SLACK_ALERTS, SLACK_ENGINEERING)
CRITICAL = RECEIVER_GROUPS["critical"]
WARNING = RECEIVER_GROUPS["warning"]


# --- knobs ----------------------------------------------------------------------------------------


def pool_capacity(env: Mapping[str, str] = os.environ) -> int:
    """Pooled connections per backend worker (pool size + overflow, backend settings' defaults)."""
    return int(env.get("DB_POOL_SIZE", 10)) + int(env.get("DB_MAX_OVERFLOW", 5))


def resolve(value: Any, env: Mapping[str, str] = os.environ) -> Any:
    """A knob value from the file: a constant, or {"pool_capacity_minus": n} (per worker)."""
    if isinstance(value, dict) and "pool_capacity_minus" in value:
        return pool_capacity(env) - int(value["pool_capacity_minus"])
    return value


def knob_errors(values: Mapping[str, Any]) -> list[str]:
    """What the backend's /_faults would refuse (422) in these knob values, as messages."""
    out = []
    for name, value in values.items():
        spec = KNOBS.get(name)
        if spec is None:
            out.append(f"unknown fault knob {name!r} (known: {', '.join(KNOBS)})")
            continue
        kind = spec["type"]
        ok_type = {"number": isinstance(value, int | float) and not isinstance(value, bool),
                   "integer": isinstance(value, int) and not isinstance(value, bool),
                   "boolean": isinstance(value, bool),
                   "routes": isinstance(value, list) and all(isinstance(r, str) for r in value)}[kind]
        if not ok_type:
            out.append(f"{name}: {value!r} is not of type {kind}")
        elif kind in ("number", "integer") and not spec["minimum"] <= value <= spec["maximum"]:
            out.append(f"{name}: {value!r} is outside [{spec['minimum']}, {spec['maximum']}]")
        elif kind == "routes" and len(value) > spec["maxItems"]:
            out.append(f"{name}: more than {spec['maxItems']} routes")
    return out


# --- fault kinds: one object each, with on / off / describe -----------------------------------------


class FaultTarget(Protocol):
    faults: Any  # .set(**knobs), .clear()
    capture: Any  # .mixpanel_down(bool)
    stack: Any  # .stop_backend(), .start_backend()


@dataclass(frozen=True)
class NoFault:
    kind: str = "none"

    def on(self, target: FaultTarget) -> str:
        return self.describe()

    def off(self, target: FaultTarget) -> None:
        pass

    def describe(self) -> str:
        return "no fault"


@dataclass(frozen=True)
class BackendFaults:
    """Knobs of the backend's /_faults (PUT on, DELETE off)."""

    knobs: dict[str, Any] = field(default_factory=dict)
    kind: str = "backend"

    def values(self, env: Mapping[str, str] = os.environ) -> dict[str, Any]:
        return {k: resolve(v, env) for k, v in self.knobs.items()}

    def on(self, target: FaultTarget) -> str:
        values = self.values()
        target.faults.set(**values)
        return f"/_faults {values}"

    def off(self, target: FaultTarget) -> None:
        target.faults.clear()

    def describe(self) -> str:
        return f"PUT /_faults {self.knobs}"


@dataclass(frozen=True)
class MixpanelDown:
    kind: str = "mixpanel_down"

    def on(self, target: FaultTarget) -> str:
        target.capture.mixpanel_down(True)
        return self.describe()

    def off(self, target: FaultTarget) -> None:
        target.capture.mixpanel_down(False)

    def describe(self) -> str:
        return "capture server: Mixpanel answers 503"


@dataclass(frozen=True)
class StopBackend:
    kind: str = "stop_backend"

    def on(self, target: FaultTarget) -> str:
        target.stack.stop_backend()
        return self.describe()

    def off(self, target: FaultTarget) -> None:
        target.stack.start_backend()

    def describe(self) -> str:
        return "SIGTERM the backend (gunicorn master) by PID, restart after"


# --- the HA topology's faults: lose processes of the stack (infra/local/topology.py) --------------


@dataclass(frozen=True)
class KillProcesses:
    """SIGKILL named stack processes (a backend instance, a Prometheus replica, an Alertmanager
    member), optionally with backend knobs on at the same time. `restart`: "at_off" starts them
    again when the fault ends, then keeps the knobs on for `hold_after_restart_s` more (the
    restarted process must rejoin while the alerts still fire: a duplicate page or a spurious
    resolve would show there); "never" leaves them down until the stack stops; a number restarts
    them that many seconds after the kill, in the background (the fault stays on)."""

    kill: tuple[str, ...]
    knobs: dict[str, Any] = field(default_factory=dict)
    restart: str | float = "at_off"
    hold_after_restart_s: float = 0.0
    kind: str = "kill_processes"
    _state: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def values(self, env: Mapping[str, str] = os.environ) -> dict[str, Any]:
        return {k: resolve(v, env) for k, v in self.knobs.items()}

    def on(self, target: FaultTarget) -> str:
        import threading  # noqa: PLC0415
        import time  # noqa: PLC0415

        if self.knobs:
            target.faults.set(**self.values())
        for name in self.kill:
            target.stack.kill_process(name)
        self._state.update(killed_at=time.time(), restarted_at=None, thread=None)
        if isinstance(self.restart, int | float):
            def later() -> None:
                time.sleep(float(self.restart))
                self._restart(target)
            self._state["thread"] = threading.Thread(target=later, name="restart-killed", daemon=True)
            self._state["thread"].start()
        return self.describe()

    def _restart(self, target: FaultTarget) -> None:
        import time  # noqa: PLC0415

        for name in self.kill:
            target.stack.restart_process(name)
        self._state["restarted_at"] = time.time()

    def off(self, target: FaultTarget) -> None:
        import time  # noqa: PLC0415

        thread = self._state.get("thread")
        if thread is not None:
            thread.join()
        elif self.restart == "at_off":
            self._restart(target)
        restarted = self._state.get("restarted_at")
        if restarted is not None and self.hold_after_restart_s:
            time.sleep(max(0.0, restarted + self.hold_after_restart_s - time.time()))
        if self.knobs:
            target.faults.clear()

    def describe(self) -> str:
        knobs = f"PUT /_faults {self.knobs} and " if self.knobs else ""
        if self.restart == "at_off":
            when = f"restarted when the fault ends, knobs kept on {self.hold_after_restart_s:g}s more"
        elif self.restart == "never":
            when = "not restarted"
        else:
            when = f"restarted {float(self.restart):g}s later"
        return f"{knobs}SIGKILL {', '.join(self.kill)} ({when})"


Fault = NoFault | BackendFaults | MixpanelDown | StopBackend | KillProcesses


def fault_from(spec: Mapping[str, Any]) -> Fault:
    kind = spec.get("kind", "none")
    if kind not in DATA["fault_kinds"]:
        raise ValueError(f"unknown fault kind {kind!r} (known: {', '.join(DATA['fault_kinds'])})")
    if kind == "backend":
        return BackendFaults(dict(spec.get("set", {})))
    if kind == "kill_processes":
        return KillProcesses(tuple(spec["kill"]), dict(spec.get("set", {})), spec.get("restart", "at_off"),
                             float(spec.get("hold_after_restart_s", 0.0)))
    return {"none": NoFault, "mixpanel_down": MixpanelDown, "stop_backend": StopBackend}[kind]()


# --- scenarios --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """An alert the scenario must fire."""

    alert: str
    receivers: tuple[Receiver, ...]
    fill: Fill = Fill()
    labels: dict[str, str] = field(default_factory=dict)  # series that must fire (subset match)
    resolves: bool = True  # False: its windows outlast the run; resolution is not awaited (say why)
    note: str = ""
    margin_exception: str = ""  # why the 1.5x model margin cannot hold (a bounded quantity)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    fault: Fault
    expect: tuple[Expect, ...] = ()
    may_fire: dict[str, str] = field(default_factory=dict)  # alert -> why it may fire too
    users: int = 16
    user_classes: tuple[str, ...] = ("FunnelUser", "ReadHeavyUser")
    steady_rps: float = 0.0  # the backend request rate the margin model assumes for this traffic
    steady_seconds: float = 0.0  # steady: how long nothing may fire
    max_failure_ratio: float | None = None  # Locust failures / requests over the whole run
    checks: tuple[str, ...] = ()  # extra checks by name (see harness.EXTRA_CHECKS)
    short: bool = False  # part of the short suite run inside `make test`
    harness: bool = True  # False: used by the e2e journeys only
    topology: str = "single"  # the stack topology it runs on (infra/local/topology.py)
    # a project-local PostgreSQL with this max_connections (the stack library starts it; never the
    # machine's shared server): every scenario of the run then uses it
    postgres_max_connections: int | None = None

    @property
    def expected_names(self) -> set[str]:
        return {e.alert for e in self.expect}


def _number(value: Any, fault: Fault, env: Mapping[str, str]) -> float:
    """A fill parameter: a number, or {"knob": name, "scale": s, "per": "pool_capacity"}."""
    if not isinstance(value, dict):
        return float(value)
    knobs = fault.values(env) if isinstance(fault, BackendFaults | KillProcesses) else {}
    out = float(knobs[value["knob"]]) * float(value.get("scale", 1))
    if value.get("per") == "pool_capacity":
        out /= pool_capacity(env)
    return out


def _fill(spec: Mapping[str, Any], fault: Fault, env: Mapping[str, str]) -> Fill:
    return Fill(kind=spec.get("kind", "instant"), level=_number(spec.get("level", 0.0), fault, env),
                seconds=float(spec.get("seconds", 0.0)), threshold=spec.get("threshold"),
                delay=_number(spec.get("delay", 0.0), fault, env))


def _labels(spec: Mapping[str, str]) -> dict[str, str]:
    """Expected alert labels; the catalogue's service "backend" is the API, whose `service` label is the
    product's (product.toml `service`)."""
    return {k: PRODUCT.service if (k, v) == ("service", "backend") else v for k, v in spec.items()}


def _receivers(spec: str | list[str]) -> tuple[Receiver, ...]:
    return RECEIVER_GROUPS[spec] if isinstance(spec, str) else tuple(Receiver.parse(r) for r in spec)


def scenario_from(name: str, spec: Mapping[str, Any], env: Mapping[str, str] = os.environ) -> Scenario:
    fault = fault_from(spec.get("fault", {}))
    traffic = DATA["traffic"][spec.get("traffic", "default")]
    expect = tuple(
        Expect(e["alert"], _receivers(e["receivers"]), _fill(e.get("fill", {}), fault, env),
               _labels(e.get("labels", {})), bool(e.get("resolves", True)), e.get("note", ""),
               e.get("margin_exception", ""))
        for e in spec.get("expect", ()))
    return Scenario(name, spec["description"], fault, expect, dict(spec.get("may_fire", {})),
                    users=int(traffic["users"]), user_classes=tuple(traffic["user_classes"]),
                    steady_rps=float(traffic["steady_rps"]),
                    steady_seconds=float(spec.get("steady_seconds", 0.0)),
                    max_failure_ratio=spec.get("max_failure_ratio"), checks=tuple(spec.get("checks", ())),
                    short=bool(spec.get("short", False)), harness=bool(spec.get("harness", True)),
                    topology=str(spec.get("topology", "single")),
                    postgres_max_connections=spec.get("postgres_max_connections"))


ALL: tuple[Scenario, ...] = tuple(scenario_from(n, s) for n, s in DATA["scenarios"].items())
BY_NAME = {s.name: s for s in ALL}
SCENARIOS: tuple[Scenario, ...] = tuple(s for s in ALL if s.harness)  # what the harness runs
SHORT = tuple(s.name for s in SCENARIOS if s.short)


def fault_of(scenario: str) -> Fault:
    """The fault of a named scenario (for e2e and monitoring tests that reuse one)."""
    return BY_NAME[scenario].fault


def select(names: list[str] | None, short: bool, topology: str = "single") -> list[Scenario]:
    """Scenarios to run, in catalogue order (steady first: it needs a clean slate). Without names:
    those of `topology` (each scenario names the topology it runs on; default single)."""
    harness_names = {s.name for s in SCENARIOS}
    of_topology = {s.name for s in SCENARIOS if s.topology == topology}
    wanted = set(names or ((set(SHORT) if short else harness_names) & of_topology))
    unknown = wanted - harness_names
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(harness_names))}")
    return [s for s in SCENARIOS if s.name in wanted]
