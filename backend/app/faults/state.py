"""Fault state: a JSON file (FAULT_STATE_FILE) shared by every worker process.

A file, not Redis, so that the redis_down fault can be switched on and off while Redis is "down".
Readers stat the file and re-read it only when its mtime changes (about a microsecond per check).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class FaultState:
    error_ratio: float = 0.0
    error_routes: tuple[str, ...] = ()
    latency_ms: int = 0
    latency_routes: tuple[str, ...] = ()
    db_pool_hold: int = 0
    redis_down: bool = False
    billing_timeout: bool = False

    @property
    def affects_requests(self) -> bool:
        return self.error_ratio > 0 or self.latency_ms > 0

    def to_json(self) -> dict:
        data = asdict(self)
        data["error_routes"] = list(self.error_routes)
        data["latency_routes"] = list(self.latency_routes)
        return data

    @classmethod
    def from_json(cls, data: dict) -> FaultState:
        return cls(
            error_ratio=float(data.get("error_ratio", 0.0)),
            error_routes=tuple(data.get("error_routes") or ()),
            latency_ms=int(data.get("latency_ms", 0)),
            latency_routes=tuple(data.get("latency_routes") or ()),
            db_pool_hold=int(data.get("db_pool_hold", 0)),
            redis_down=bool(data.get("redis_down", False)),
            billing_timeout=bool(data.get("billing_timeout", False)),
        )


NO_FAULTS = FaultState()


@dataclass
class FaultStore:
    path: str
    _mtime: int | None = field(default=None, repr=False)
    _state: FaultState = field(default=NO_FAULTS, repr=False)

    def current(self) -> FaultState:
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except OSError:
            self._mtime, self._state = None, NO_FAULTS
            return NO_FAULTS
        if mtime != self._mtime:
            try:
                with open(self.path) as fh:
                    self._state = FaultState.from_json(json.load(fh))
            except (OSError, ValueError, TypeError):
                self._state = NO_FAULTS
            self._mtime = mtime
        return self._state

    def write(self, state: FaultState) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            json.dump(state.to_json(), fh)
        os.replace(tmp, self.path)

    def clear(self) -> None:
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass


# The process-wide store, set by app.faults.install() only when fault injection is enabled.
store: FaultStore | None = None


def active() -> FaultState:
    return store.current() if store is not None else NO_FAULTS
