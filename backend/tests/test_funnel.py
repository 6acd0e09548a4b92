"""The whole funnel, signup -> project -> task completed -> upgrade, and its outbox rows."""

import json
import uuid

from tests.conftest import bearer


async def test_funnel_writes_one_outbox_row_per_step_without_pii(client, db, payment_provider):
    signup = await client.post(
        "/api/auth/signup", json={"email": "Funnel@Example.com", "password": "funnel-pass", "name": "Fran"}
    )
    assert signup.status_code == 201
    token, user = signup.json()["token"], signup.json()["user"]
    client.cookies.clear()
    headers = bearer(token)
    project = (await client.post("/api/projects", json={"name": "Launch"}, headers=headers)).json()
    task = (await client.post(f"/api/projects/{project['id']}/tasks", json={"title": "ship"}, headers=headers)).json()
    assert (await client.post(f"/api/tasks/{task['id']}/complete", headers=headers)).status_code == 200
    assert (await client.post("/api/billing/upgrade", json={"plan": "pro"}, headers=headers)).status_code == 200

    rows = await db.fetch(
        "SELECT insert_id, event, distinct_id, properties, delivered_at, attempts, next_attempt_at"
        " FROM analytics_outbox ORDER BY id"
    )
    assert [r["event"] for r in rows] == ["signed_up", "project_created", "task_completed", "plan_upgraded"]
    assert {r["distinct_id"] for r in rows} == {user["id"]}
    assert len({r["insert_id"] for r in rows}) == 4 and all(isinstance(r["insert_id"], uuid.UUID) for r in rows)
    assert all(r["delivered_at"] is None and r["attempts"] == 0 and r["next_attempt_at"] for r in rows)
    props = [json.loads(r["properties"]) for r in rows]
    # Each event carries the request ID of the request that caused it (app/core/correlation.py).
    assert all(len(p.pop("request_id")) >= 16 for p in props)
    assert props[1]["project_id"] == project["id"]
    assert props[2] == {"task_id": task["id"], "project_id": project["id"]}
    assert props[3]["plan"] == "pro"
    everything = json.dumps(props).lower()
    for secret in ("funnel@example.com", "funnel-pass", token.lower()):
        assert secret not in everything
