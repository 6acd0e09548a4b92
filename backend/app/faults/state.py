"""Fault state: a JSON file (FAULT_STATE_FILE) shared by every worker process.

Its fields are the knobs of catalogue.json. A file, not Redis, so that the redis_down fault can be
switched on and off while Redis is "down".
Readers stat the file and re-read it only when its mtime changes (about a microsecond per check).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from app.faults.catalogue import FaultState

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
