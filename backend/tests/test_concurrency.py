"""Races that must not produce a 500 or a duplicate business event."""

import asyncio

from tests.conftest import bearer, signup


async def test_concurrent_signups_for_one_email_give_one_user_and_409s(client, db):
    payload = {"email": "race@example.com", "password": "race-password-7", "name": "Race"}
    responses = await asyncio.gather(*(client.post("/api/auth/signup", json=payload) for _ in range(4)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409]
    assert await db.fetchval("SELECT count(*) FROM users") == 1
    assert await db.fetchval("SELECT count(*) FROM analytics_outbox WHERE event = 'signed_up'") == 1


async def test_concurrent_completions_track_one_event(client, db):
    headers = bearer((await signup(client))["token"])
    client.cookies.clear()
    project = (await client.post("/api/projects", json={"name": "p"}, headers=headers)).json()
    task = (await client.post(f"/api/projects/{project['id']}/tasks", json={"title": "t"}, headers=headers)).json()
    responses = await asyncio.gather(
        *(client.post(f"/api/tasks/{task['id']}/complete", headers=headers) for _ in range(5))
    )
    assert {r.status_code for r in responses} == {200}
    assert await db.fetchval("SELECT count(*) FROM analytics_outbox WHERE event = 'task_completed'") == 1
