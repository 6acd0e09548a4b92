"""app/core/idle_queue.py on a real event loop: work waits while other requests are in flight,
runs one item per loop iteration once none is, yields to a request that comes in meanwhile, and
never waits past its bounds or past shutdown."""

from __future__ import annotations

import asyncio
import contextvars

from app.core.idle_queue import IdleQueue

request_name: contextvars.ContextVar[str] = contextvars.ContextVar("request_name", default="none")


def _work(done: list[str], label: str):
    return lambda: done.append(f"{label}:{request_name.get()}")


async def test_alone_the_work_runs_at_once():
    idle, done = IdleQueue(), []
    idle.request_started()
    idle.run_or_defer(_work(done, "a"))
    assert done == ["a:none"] and len(idle) == 0 and idle.deferred_total == 0


async def test_with_others_in_flight_it_waits_then_runs_in_its_own_context_one_per_iteration():
    idle, done = IdleQueue(), []
    idle.request_started()  # another request, still in flight
    for name in ("first", "second"):
        idle.request_started()
        token = request_name.set(name)
        idle.run_or_defer(_work(done, name))
        request_name.reset(token)
        idle.request_finished()
    await asyncio.sleep(0)
    assert done == [] and len(idle) == 2 and idle.deferred_total == 2
    idle.request_finished()  # the worker is idle now
    assert done == []  # not inline: the last request's own end goes first
    await asyncio.sleep(0)
    assert done == ["first:first"]  # one item, then the loop reads its sockets again
    await asyncio.sleep(0)
    assert done == ["first:first", "second:second"] and len(idle) == 0


async def test_a_request_coming_in_stops_the_run_until_the_worker_is_idle_again():
    idle, done = IdleQueue(), []
    idle.request_started()
    for name in ("x", "y"):
        idle.request_started()
        idle.run_or_defer(_work(done, name))
        idle.request_finished()
    idle.request_finished()
    await asyncio.sleep(0)
    assert done == ["x:none"]
    idle.request_started()  # a new request, before the next item's turn
    for _ in range(3):
        await asyncio.sleep(0)
    assert done == ["x:none"] and len(idle) == 1
    idle.request_finished()
    await asyncio.sleep(0)
    assert done == ["x:none", "y:none"]


async def test_under_saturation_the_oldest_runs_inline_past_the_count_or_the_age():
    idle, done = IdleQueue(max_pending=2, max_age=60.0), []
    idle.request_started()  # never idle
    idle.request_started()
    for i in range(4):
        idle.run_or_defer(_work(done, str(i)))
    assert done == ["0:none", "1:none"] and len(idle) == 2  # never more than max_pending waiting
    aged, aged_done = IdleQueue(max_pending=100, max_age=0.0), []
    aged.request_started()
    aged.request_started()
    aged.run_or_defer(_work(aged_done, "old"))
    await asyncio.sleep(0.01)
    aged.run_or_defer(_work(aged_done, "new"))
    assert aged_done[0] == "old:none"  # older than max_age when the next one came


async def test_drain_runs_what_is_left_and_a_failing_item_does_not_stop_the_rest():
    idle, done = IdleQueue(), []
    idle.request_started()
    idle.request_started()

    def boom() -> None:
        raise RuntimeError("deferred work failed on purpose")

    idle.run_or_defer(boom)
    idle.run_or_defer(_work(done, "after"))
    idle.drain()
    assert done == ["after:none"] and len(idle) == 0


def test_without_a_running_loop_the_work_runs_at_once():
    idle, done = IdleQueue(), []
    idle.request_started()
    idle.request_started()
    idle.run_or_defer(_work(done, "sync"))
    assert done == ["sync:none"] and len(idle) == 0
