"""The traces sample rate in force (app/core/trace_budget.py): SENTRY_TRACES_SAMPLE_RATE until a
worker's requests come faster than SENTRY_TRACES_MAX_PER_SECOND allows, then lowered so about that
many a second are traced; every sampled trace says the rate it was decided at, and the
`sentry_sample_rate{kind="traces"}` gauge shows the rate in force."""

from __future__ import annotations

import time

import httpx
import sentry_sdk
from prometheus_client import REGISTRY

from app.core.trace_budget import TraceBudget


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def offer(budget: TraceBudget, clock: Clock, per_second: int, seconds: int) -> list[float]:
    rates = []
    for _ in range(seconds):
        for _ in range(per_second):
            clock.now += 1 / per_second
            rates.append(budget.rate_for_next())
    return rates


def test_the_rate_follows_the_traffic_down_and_back_up() -> None:
    clock, changes = Clock(), []
    budget = TraceBudget(0.1, 10, on_change=changes.append, clock=clock)
    assert set(offer(budget, clock, 50, 3)) == {0.1}  # 5 traced a second: under the budget
    spike = offer(budget, clock, 1000, 3)
    assert spike[0] == 0.1 and set(spike[-1000:]) == {0.01}  # a window late, then 1000/s x 0.01 = 10/s
    assert sum(spike) < 0.1 * 1000 + 0.02 * 2000  # expected traces in the 3 s: 300 without the budget
    assert set(offer(budget, clock, 20, 3)[-20:]) == {0.1}  # quiet again: the configured rate
    assert changes[0] < 0.1 and changes[-1] == 0.1


def test_no_budget_is_always_the_configured_rate() -> None:
    clock = Clock()
    budget = TraceBudget(0.25, 0, clock=clock)
    assert set(offer(budget, clock, 5000, 2)) == {0.25}


def _traces_gauge() -> float | None:
    return REGISTRY.get_sample_value("sentry_sample_rate", {"kind": "traces"})


async def test_a_burst_is_traced_at_the_lowered_rate_and_says_so(settings, db, sentry_events) -> None:
    from app.main import create_app

    app = create_app(settings.model_copy(update={"SENTRY_TRACES_SAMPLE_RATE": 1.0, "SENTRY_TRACES_MAX_PER_SECOND": 5}))
    async with app.router.lifespan_context(app):
        assert _traces_gauge() == 1.0
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            sent = 0
            deadline = time.monotonic() + 4.0  # three windows at least after the first, on a slow host too
            while time.monotonic() < deadline:
                assert (await c.get("/api/me")).status_code == 401
                sent += 1
        lowered = _traces_gauge()
    sentry_sdk.flush()
    rates = [float(env.headers["trace"]["sample_rate"]) for env in sentry_events.envelopes
             for item in env.items if item.type == "transaction"]
    assert sent > 40, "the burst outran the budget of 5 a second"
    assert lowered is not None and lowered < 1.0
    assert rates[0] == 1.0 and min(rates) < 1.0  # the first window at the configured rate, then lower
    assert len(rates) < sent / 2  # not every request traced any more
    for env in sentry_events.envelopes:
        if not any(item.type == "transaction" for item in env.items):
            continue
        trace = env.headers["trace"]
        assert float(trace["sample_rand"]) < float(trace["sample_rate"])
