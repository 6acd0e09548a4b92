"""Plan upgrade through the payment provider stand-in: success, 409, 502, 504; nothing written on failure."""

import pytest

from tests.conftest import bearer, free_port, signup, table_counts


@pytest.fixture
async def user(client, db):
    body = await signup(client, email="payer@example.com")
    client.cookies.clear()
    return body


async def test_upgrade_to_pro(client, db, user, payment_provider):
    headers = bearer(user["token"])
    assert (await client.get("/api/billing/plan", headers=headers)).json() == {"plan": "free"}
    response = await client.post("/api/billing/upgrade", json={"plan": "pro"}, headers=headers)
    assert response.status_code == 200 and response.json() == {"plan": "pro"}
    assert (await client.get("/api/billing/plan", headers=headers)).json() == {"plan": "pro"}
    assert (await client.get("/api/me", headers=headers)).json()["plan"] == "pro"
    assert len(payment_provider.charges) == 1
    charge = payment_provider.charges[0]
    assert charge["request"]["workspace_id"] == user["user"]["workspace_id"]
    assert charge["idempotency_key"]
    row = await db.fetchrow("SELECT provider_charge_id, plan FROM billing_charges")
    assert row["provider_charge_id"] == charge["id"] and row["plan"] == "pro"
    assert await db.fetchval("SELECT count(*) FROM analytics_outbox WHERE event = 'plan_upgraded'") == 1

    again = await client.post("/api/billing/upgrade", json={"plan": "pro"}, headers=headers)
    assert again.status_code == 409
    assert len(payment_provider.charges) == 1


async def _assert_failed_upgrade_changes_nothing(client, db, user, expected_status):
    headers = bearer(user["token"])
    before = await table_counts(db)
    response = await client.post("/api/billing/upgrade", json={"plan": "pro"}, headers=headers)
    assert response.status_code == expected_status, response.text
    assert "detail" in response.json()
    assert await table_counts(db) == before
    assert (await client.get("/api/billing/plan", headers=headers)).json() == {"plan": "free"}


async def test_provider_error_is_502_and_nothing_is_written(client, db, user, payment_provider):
    payment_provider.fail = True
    await _assert_failed_upgrade_changes_nothing(client, db, user, 502)


async def test_provider_timeout_is_504_and_nothing_is_written(client, db, user, payment_provider):
    payment_provider.delay_seconds = 1.5  # the app's timeout is 0.5 s in tests
    await _assert_failed_upgrade_changes_nothing(client, db, user, 504)


async def test_provider_unreachable_is_502(make_client, settings, db):
    client = await make_client.client(settings.model_copy(update={"PAYMENT_PROVIDER_URL": f"http://127.0.0.1:{free_port()}"}))
    user = await signup(client)
    client.cookies.clear()
    await _assert_failed_upgrade_changes_nothing(client, db, user, 502)


@pytest.mark.parametrize("payload", [{}, {"plan": "enterprise"}, {"plan": "free"}, {"plan": None}])
async def test_upgrade_validation(client, db, user, payment_provider, payload):
    response = await client.post("/api/billing/upgrade", json=payload, headers=bearer(user["token"]))
    assert response.status_code == 422
    assert payment_provider.charges == []
