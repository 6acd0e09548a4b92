"""The traces sample rate in force: SENTRY_TRACES_SAMPLE_RATE, lowered while requests arrive faster
than SENTRY_TRACES_MAX_PER_SECOND / that rate, so that tracing's CPU (≈ 2–3 ms per sampled
transaction on the bench's machine, docs/benchmarks.md) and Sentry's transaction volume (its bill)
stay bounded in a traffic spike instead of growing with it.

Each one-second window's rate is set from the window before it: min(SENTRY_TRACES_SAMPLE_RATE,
SENTRY_TRACES_MAX_PER_SECOND / requests per second offered to the sampler). Every decision is taken
at a known rate, and that rate goes into the trace's sampling context (app/core/sentry.py,
report_head_sampling), so Sentry's extrapolation by 1 / sample_rate still counts all the traffic.
The idea of AWS X-Ray's reservoir and Jaeger's rate-limiting sampler; sentry-sdk has no such option
(its traces_sampler is asked once per transaction and knows nothing of the traffic), so it is
written here. Only this service's own decisions are budgeted: a trace the web app sampled is
followed, so a click's trace stays whole.

Per worker process, on its event loop (no lock). Standard library only.
"""

from __future__ import annotations

import time
from collections.abc import Callable

WINDOW_SECONDS = 1.0
# the smallest rate in force: a decision at rate 0 could not be reported as a sample rate
MIN_RATE = 1e-6


class TraceBudget:
    def __init__(self, rate: float, max_per_second: float,
                 on_change: Callable[[float], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.configured = rate
        self.rate = rate
        self.max_per_second = max_per_second
        self._on_change = on_change
        self._clock = clock
        self._window_start = clock()
        self._offered = 0

    def rate_for_next(self) -> float:
        """The rate at which to decide one more request, which is counted."""
        if self.max_per_second <= 0:
            return self.configured
        self._offered += 1
        now = self._clock()
        elapsed = now - self._window_start
        if elapsed >= WINDOW_SECONDS:
            per_second = self._offered / elapsed
            rate = max(MIN_RATE, round(min(self.configured, self.max_per_second / per_second), 6))
            self._window_start, self._offered = now, 0
            if rate != self.rate:
                self.rate = rate
                if self._on_change is not None:
                    self._on_change(rate)
        return self.rate
