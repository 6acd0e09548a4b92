"""Signup, login, logout, sessions: success paths and every bad-input case."""

import pytest

from app.users.deps import SESSION_COOKIE
from tests.conftest import bearer, signup, table_counts


async def test_signup_creates_user_workspace_session_and_event(client, db):
    body = await signup(client, email="Ada@Example.COM")
    user = body["user"]
    assert user["email"] == "ada@example.com"
    assert user["plan"] == "free" and user["name"] == "Ada"
    assert set(user) == {"id", "email", "name", "plan", "workspace_id", "created_at"}
    assert len(body["token"]) >= 32
    counts = await table_counts(db)
    assert counts["users"] == 1 and counts["workspaces"] == 1 and counts["auth_sessions"] == 1
    # the token is stored hashed, never as-is
    assert await db.fetchval("SELECT count(*) FROM auth_sessions WHERE token_hash = $1", body["token"]) == 0
    event = await db.fetchrow("SELECT event, distinct_id, properties FROM analytics_outbox")
    assert event["event"] == "signed_up" and event["distinct_id"] == user["id"]
    assert "ada@example.com" not in event["properties"].lower()
    assert body["token"] not in event["properties"]


async def test_signup_sets_httponly_cookie_that_authenticates(client, db):
    response = await client.post("/api/auth/signup", json={"email": "c@example.com", "password": "unusual-pass-9", "name": "C"})
    cookie = response.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    me = await client.get("/api/me")  # the client keeps the cookie
    assert me.status_code == 200 and me.json()["email"] == "c@example.com"


async def test_duplicate_email_is_409_case_insensitive_and_changes_nothing(client, db):
    await signup(client, email="dup@example.com")
    before = await table_counts(db)
    response = await client.post(
        "/api/auth/signup", json={"email": "DUP@example.com", "password": "other password", "name": "Other"}
    )
    assert response.status_code == 409
    assert response.json() == {"detail": "Email already registered"}
    assert await table_counts(db) == before


async def test_login_and_me_with_bearer(client, db):
    await signup(client, email="bob@example.com", password="s3cret-pass")
    client.cookies.clear()
    response = await client.post("/api/auth/login", json={"email": "BOB@example.com", "password": "s3cret-pass"})
    assert response.status_code == 200
    token = response.json()["token"]
    client.cookies.clear()
    me = await client.get("/api/me", headers=bearer(token))
    assert me.status_code == 200 and me.json()["email"] == "bob@example.com"


async def test_wrong_password_and_unknown_email_get_the_same_401(client, db):
    await signup(client, email="eve@example.com", password="right password")
    wrong = await client.post("/api/auth/login", json={"email": "eve@example.com", "password": "wrong password"})
    unknown = await client.post("/api/auth/login", json={"email": "nobody@example.com", "password": "right password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Invalid email or password"}
    assert "set-cookie" not in wrong.headers


async def test_logout_revokes_the_token_even_when_it_was_cached(client, db):
    token = (await signup(client))["token"]
    client.cookies.clear()
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 200  # now cached in Redis
    response = await client.post("/api/auth/logout", headers=bearer(token))
    assert response.status_code == 204
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 401
    assert (await client.post("/api/auth/logout", headers=bearer(token))).status_code == 401
    assert await db.fetchval("SELECT count(*) FROM auth_sessions") == 0


async def test_expired_session_is_rejected(client, db):
    token = (await signup(client))["token"]
    client.cookies.clear()
    await db.execute("UPDATE auth_sessions SET expires_at = now() - interval '1 second'")
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 401


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic Zm9vOmJhcg=="}, {"Authorization": "Bearer " + "x" * 500}],
)
async def test_protected_endpoints_need_a_valid_token(client, db, headers):
    response = await client.get("/api/me", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": "unusual-pass-9", "name": "A"}, "email"),
        ({"email": "a@example.com", "password": "short", "name": "A"}, "password"),
        ({"email": "a@example.com", "password": "p" * 129, "name": "A"}, "password"),
        ({"email": "a@example.com", "password": "unusual-pass-9", "name": ""}, "name"),
        ({"email": "a@example.com", "password": "unusual-pass-9", "name": "n" * 101}, "name"),
        ({"email": "a@example.com", "password": "unusual-pass-9", "name": "nul\x00byte"}, "name"),
        ({"email": "a@example.com", "password": "unusual-pass-9"}, "name"),
        ({"email": "a@example.com", "password": 12345678, "name": "A"}, "password"),
    ],
)
async def test_signup_validation_is_field_level_422_and_writes_nothing(client, db, payload, field):
    response = await client.post("/api/auth/signup", json=payload)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(err["loc"][:2] == ["body", field] for err in errors), errors
    assert all({"loc", "msg", "type"} <= set(err) for err in errors)
    assert sum((await table_counts(db)).values()) == 0


async def test_malformed_json_is_422_not_500(client, db):
    response = await client.post(
        "/api/auth/signup", content=b'{"email": "a@', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    response = await client.post("/api/auth/login", content=b'"\\ud800"', headers={"Content-Type": "application/json"})
    assert response.status_code == 422


async def test_lone_surrogate_in_text_is_422(client, db):
    body = b'{"email": "s@example.com", "password": "unusual-pass-9", "name": "bad \\ud800 name"}'
    response = await client.post("/api/auth/signup", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert sum((await table_counts(db)).values()) == 0
