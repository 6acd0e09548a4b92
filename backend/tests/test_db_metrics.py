"""DB metrics against the real PostgreSQL: statement timing per operation (dialect events) and the
pool gauges, which are sampled from the pool (app/core/metrics.py PoolGaugeSampler) rather than
updated on every checkout."""

from __future__ import annotations


import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from app.core import metrics
from infra.testkit import wait_until_async
from tests.conftest import bearer, signup


def sample(name: str, labels: dict | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


async def test_statements_timed_by_operation(client):
    counts = {op: sample("db_query_duration_seconds_count", {"operation": op}) for op in ("select", "insert")}
    user = await signup(client, email="dbm@example.com")
    assert sample("db_query_duration_seconds_count", {"operation": "insert"}) > counts["insert"]
    before = sample("db_query_duration_seconds_count", {"operation": "select"})
    assert (await client.get("/api/projects", headers=bearer(user["token"]))).status_code == 200
    # count + page (the session comes from Redis once cached, else one more select)
    assert sample("db_query_duration_seconds_count", {"operation": "select"}) >= before + 2

    app = client._transport.app  # noqa: SLF001
    before = sample("db_query_duration_seconds_count", {"operation": "other"})
    async with app.state.engine.connect() as conn:
        await conn.exec_driver_sql("SHOW server_version")  # no parameters: do_execute_no_params
        with pytest.raises(Exception):  # noqa: B017 - a failing statement is not observed, and still raises
            await conn.execute(text("SELECT * FROM no_such_table"))
    assert sample("db_query_duration_seconds_count", {"operation": "other"}) == before + 1


async def test_pool_gauges_follow_checked_out_connections(client):
    app = client._transport.app  # noqa: SLF001
    engine = app.state.engine
    held = [await engine.connect() for _ in range(3)]  # pool_size 4 in the test settings
    try:
        await wait_until_async(lambda: sample("db_pool_checked_out") == 3 and sample("db_connections_active") == 3,
                       timeout=2 + metrics.POOL_SAMPLE_SECONDS, what="3 connections checked out")
        held.append(await engine.connect())
        held.append(await engine.connect())  # one over pool_size: overflow
        await wait_until_async(lambda: sample("db_pool_checked_out") == 5 and sample("db_pool_overflow") == 1,
                       timeout=2 + metrics.POOL_SAMPLE_SECONDS, what="overflow connection")
    finally:
        for conn in held:
            await conn.close()
    await wait_until_async(lambda: sample("db_pool_checked_out") == 0 and sample("db_pool_overflow") == 0,
                   timeout=2 + metrics.POOL_SAMPLE_SECONDS, what="all connections back")
    assert sample("db_pool_size") >= 4 and sample("db_pool_max_overflow") >= 2
