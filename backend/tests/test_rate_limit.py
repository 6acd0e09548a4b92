"""Auth rate limit per client IP (Redis fixed window), and its in-process fallback when Redis is down."""

import pytest

from tests.conftest import free_port, signup

# Each test's counted attempts fall into one fixed window (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("one_rate_limit_window")


def limited(settings, per_minute=3, redis_url=None):
    update = {"RATE_LIMIT_AUTH_PER_MINUTE": per_minute}
    if redis_url:
        update["REDIS_URL"] = redis_url
    return settings.model_copy(update=update)


async def _attempts(client, n):
    statuses = []
    for i in range(n):
        response = await client.post("/api/auth/login", json={"email": f"x{i}@example.com", "password": "whatever1"})
        statuses.append(response.status_code)
        last = response
    return statuses, last


async def test_login_and_signup_share_a_per_ip_limit_with_retry_after(make_client, settings, db):
    client = await make_client.client(limited(settings), client_addr=("10.1.1.1", 1000))
    await signup(client, email="first@example.com")
    statuses, last = await _attempts(client, 3)
    assert statuses == [401, 401, 429]
    assert 1 <= int(last.headers["retry-after"]) <= 60
    assert last.json()["detail"]
    response = await client.post("/api/auth/signup", json={"email": "z@example.com", "password": "password1", "name": "Z"})
    assert response.status_code == 429
    assert await db.fetchval("SELECT count(*) FROM users") == 1

    other_ip = await make_client.client(limited(settings), client_addr=("10.2.2.2", 1000))
    statuses, _ = await _attempts(other_ip, 1)
    assert statuses == [401]


async def test_redis_down_falls_back_to_in_process_limit(make_client, settings, db):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    client = await make_client.client(limited(settings, 3, dead_redis), client_addr=("10.3.3.3", 1000))
    statuses, last = await _attempts(client, 4)
    # neither blocked (the first three get a real answer) nor unlimited (the fourth is refused)
    assert statuses == [401, 401, 401, 429]
    assert int(last.headers["retry-after"]) >= 1


async def test_app_degrades_without_redis(make_client, settings, db):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    client = await make_client.client(settings.model_copy(update={"REDIS_URL": dead_redis}))
    body = await signup(client)
    headers = {"Authorization": f"Bearer {body['token']}"}
    client.cookies.clear()
    assert (await client.get("/api/me", headers=headers)).status_code == 200
    project = (await client.post("/api/projects", json={"name": "p"}, headers=headers)).json()
    for _ in range(2):
        response = await client.get(f"/api/projects/{project['id']}", headers=headers)
        assert response.status_code == 200 and response.headers["x-cache"] == "miss"
    assert (await client.patch(f"/api/projects/{project['id']}", json={"name": "q"}, headers=headers)).status_code == 200
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/api/me", headers=headers)).status_code == 401


class BlackHoleRedis:
    """Accepts TCP connections and never answers: Redis hung or a dropped network path."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"redis://127.0.0.1:{self.sock.getsockname()[1]}/0"
        self.connections: list = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()


async def test_hung_redis_costs_one_timeout_per_breaker_period(make_client, settings, db):
    hole = BlackHoleRedis()
    try:
        client = await make_client.client(settings.model_copy(update={
            "REDIS_URL": hole.url, "REDIS_SOCKET_TIMEOUT": 0.2, "REDIS_BREAKER_SECONDS": 60,
            "RATE_LIMIT_AUTH_PER_MINUTE": 5,
        }))
        token = (await signup(client))["token"]
        client.cookies.clear()
        headers = {"Authorization": f"Bearer {token}"}
        project = (await client.post("/api/projects", json={"name": "p"}, headers=headers)).json()
        for _ in range(5):
            assert (await client.get("/api/me", headers=headers)).status_code == 200
            response = await client.get(f"/api/projects/{project['id']}", headers=headers)
            assert response.status_code == 200 and response.headers["x-cache"] == "miss"
        # without the breaker every Redis operation above would have opened a connection
        assert len(hole.connections) <= 1
        statuses, _ = await _attempts(client, 5)  # the in-process limit still applies (signup used 1)
        assert statuses == [401, 401, 401, 401, 429]
    finally:
        hole.close()
