"""Oversized bodies: 413 from the pure ASGI limit, by declared length or by streamed size; nothing written."""

from tests.conftest import signup, table_counts


async def test_declared_content_length_over_limit_is_413(make_client, settings, db):
    client = await make_client.client(settings.model_copy(update={"MAX_BODY_BYTES": 1024}))
    before = await table_counts(db)
    payload = b'{"email": "big@example.com", "password": "password1", "name": "' + b"x" * 2000 + b'"}'
    response = await client.post("/api/auth/signup", content=payload, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}
    assert await table_counts(db) == before


async def test_streamed_body_over_limit_is_413(make_client, settings, db):
    client = await make_client.client(settings.model_copy(update={"MAX_BODY_BYTES": 1024}))
    token = (await signup(client))["token"]
    before = await table_counts(db)

    async def chunks():  # no Content-Length: the size is only known while streaming
        yield b'{"name": "'
        for _ in range(10):
            yield b"y" * 200
        yield b'"}'

    response = await client.post(
        "/api/projects", content=chunks(), headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert await table_counts(db) == before


async def test_body_under_limit_passes(make_client, settings, db):
    client = await make_client.client(settings.model_copy(update={"MAX_BODY_BYTES": 1024}))
    token = (await signup(client))["token"]
    response = await client.post("/api/projects", json={"name": "small"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201


async def test_invalid_content_length_is_400(client, db):
    response = await client.post("/api/auth/login", content=b"{}", headers={"Content-Length": "abc", "Content-Type": "application/json"})
    assert response.status_code == 400
