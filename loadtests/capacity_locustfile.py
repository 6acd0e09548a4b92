"""The capacity ramp's locustfile: the harness's journeys (loadtests/locustfile.py, FunnelUser and
ReadHeavyUser with their weights and wait times, unchanged) driven by a stepped `LoadTestShape`.

Run by `python -m loadtests.capacity` as its own Locust process (headless, loopback only), with:
- CAPACITY_STEPS: users per step, comma separated (e.g. "8,16,32");
- CAPACITY_STEP_SECONDS: how long each step holds;
- CAPACITY_SPAWN_RATE: users started per second at a step change;
- CAPACITY_EVENTS: a JSON-lines file; the shape appends {"step", "users", "t"} when a step begins,
  so the controller measures exactly the windows Locust ran.
After the last step the shape returns None and Locust stops by itself (the controller may stop it
earlier by PID when a stop condition is met).
"""

from __future__ import annotations

import json
import os
import time

from locust import LoadTestShape

from loadtests.locustfile import FunnelUser, ReadHeavyUser  # noqa: F401 - the user classes Locust runs

STEPS = [int(x) for x in os.environ.get("CAPACITY_STEPS", "4,8").split(",") if x.strip()]
STEP_SECONDS = float(os.environ.get("CAPACITY_STEP_SECONDS", "30"))
SPAWN_RATE = float(os.environ.get("CAPACITY_SPAWN_RATE", "10"))
EVENTS = os.environ.get("CAPACITY_EVENTS", "")


class StepShape(LoadTestShape):
    """Hold each step's user count for STEP_SECONDS, then the next; None after the last."""

    def __init__(self) -> None:
        super().__init__()
        self._announced = -1

    def tick(self) -> tuple[int, float] | None:
        step = int(self.get_run_time() // STEP_SECONDS)
        if step >= len(STEPS):
            return None
        if step != self._announced:
            self._announced = step
            if EVENTS:
                with open(EVENTS, "a") as fh:
                    fh.write(json.dumps({"step": step, "users": STEPS[step], "t": time.time()}) + "\n")
        return STEPS[step], SPAWN_RATE
