"""Projects and tasks: CRUD, pagination, the Redis-cached read, ownership, bad input."""

import uuid

import pytest

from tests.conftest import bearer, signup, table_counts


@pytest.fixture
async def owner(client, db):
    body = await signup(client, email="owner@example.com")
    client.cookies.clear()
    return bearer(body["token"])


@pytest.fixture
async def stranger(client, db):
    body = await signup(client, email="stranger@example.com")
    client.cookies.clear()
    return bearer(body["token"])


async def create_project(client, headers, name="Apollo", description=None):
    payload = {"name": name} if description is None else {"name": name, "description": description}
    response = await client.post("/api/projects", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_get_patch_delete_project(client, db, owner):
    project = await create_project(client, owner, description="to the moon")
    assert set(project) == {"id", "workspace_id", "name", "description", "created_at", "updated_at"}
    got = await client.get(f"/api/projects/{project['id']}", headers=owner)
    assert got.status_code == 200 and got.json() == project
    patched = await client.patch(f"/api/projects/{project['id']}", json={"name": "Artemis"}, headers=owner)
    assert patched.status_code == 200
    assert patched.json()["name"] == "Artemis" and patched.json()["description"] == "to the moon"
    cleared = await client.patch(f"/api/projects/{project['id']}", json={"description": None}, headers=owner)
    assert cleared.json()["description"] is None
    assert (await client.delete(f"/api/projects/{project['id']}", headers=owner)).status_code == 204
    assert (await client.get(f"/api/projects/{project['id']}", headers=owner)).status_code == 404
    assert (await client.delete(f"/api/projects/{project['id']}", headers=owner)).status_code == 404


async def test_project_read_is_cached_and_invalidated_on_update_and_delete(client, db, owner):
    project = await create_project(client, owner)
    url = f"/api/projects/{project['id']}"
    first, second = await client.get(url, headers=owner), await client.get(url, headers=owner)
    assert first.headers["x-cache"] == "miss" and second.headers["x-cache"] == "hit"
    assert first.json() == second.json()
    await client.patch(url, json={"name": "Renamed"}, headers=owner)
    after_update = await client.get(url, headers=owner)
    assert after_update.headers["x-cache"] == "miss" and after_update.json()["name"] == "Renamed"
    assert (await client.get(url, headers=owner)).headers["x-cache"] == "hit"
    await client.delete(url, headers=owner)
    assert (await client.get(url, headers=owner)).status_code == 404


async def test_other_users_project_is_404_everywhere_even_when_cached(client, db, owner, stranger):
    project = await create_project(client, owner)
    url = f"/api/projects/{project['id']}"
    assert (await client.get(url, headers=owner)).headers["x-cache"] == "miss"  # now in the cache
    task = (await client.post(f"{url}/tasks", json={"title": "t"}, headers=owner)).json()
    before = await table_counts(db)
    for method, path, body in [
        ("GET", url, None),
        ("PATCH", url, {"name": "mine now"}),
        ("DELETE", url, None),
        ("GET", f"{url}/tasks", None),
        ("POST", f"{url}/tasks", {"title": "sneaky"}),
        ("PATCH", f"/api/tasks/{task['id']}", {"done": True}),
        ("POST", f"/api/tasks/{task['id']}/complete", None),
        ("DELETE", f"/api/tasks/{task['id']}", None),
    ]:
        response = await client.request(method, path, json=body, headers=stranger)
        assert response.status_code == 404, (method, path, response.text)
    assert await table_counts(db) == before
    assert (await client.get(url, headers=owner)).json()["name"] == "Apollo"
    listing = await client.get("/api/projects", headers=stranger)
    assert listing.json()["total"] == 0


async def test_project_list_pagination(client, db, owner, stranger):
    for i in range(5):
        await create_project(client, owner, name=f"p{i}")
    await create_project(client, stranger, name="not yours")
    page = (await client.get("/api/projects?limit=2&offset=0", headers=owner)).json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 0
    assert [p["name"] for p in page["items"]] == ["p4", "p3"]
    last = (await client.get("/api/projects?limit=2&offset=4", headers=owner)).json()
    assert [p["name"] for p in last["items"]] == ["p0"]
    beyond = (await client.get("/api/projects?offset=50", headers=owner)).json()
    assert beyond["items"] == [] and beyond["total"] == 5
    default = (await client.get("/api/projects", headers=owner)).json()
    assert default["limit"] == 20 and len(default["items"]) == 5


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "limit=abc", "offset=99999999999999999999"])
async def test_project_list_bad_query_is_422(client, db, owner, query):
    response = await client.get(f"/api/projects?{query}", headers=owner)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 201}, "name"),
     ({"name": "ok", "description": "d" * 2001}, "description"), ({"name": "a\x00b"}, "name")],
)
async def test_create_project_validation(client, db, owner, payload, field):
    before = await table_counts(db)
    response = await client.post("/api/projects", json=payload, headers=owner)
    assert response.status_code == 422
    assert any(err["loc"][:2] == ["body", field] for err in response.json()["detail"])
    assert await table_counts(db) == before


async def test_patch_project_rejects_null_name_and_bad_uuid(client, db, owner):
    project = await create_project(client, owner)
    response = await client.patch(f"/api/projects/{project['id']}", json={"name": None}, headers=owner)
    assert response.status_code == 422
    assert (await client.get("/api/projects/not-a-uuid", headers=owner)).status_code == 422
    assert (await client.get(f"/api/projects/{uuid.uuid4()}", headers=owner)).status_code == 404


async def test_tasks_crud_filter_and_pagination(client, db, owner):
    project = await create_project(client, owner)
    tasks_url = f"/api/projects/{project['id']}/tasks"
    created = []
    for i in range(3):
        response = await client.post(tasks_url, json={"title": f"t{i}"}, headers=owner)
        assert response.status_code == 201
        created.append(response.json())
    assert set(created[0]) == {"id", "project_id", "title", "done", "completed_at", "created_at"}
    assert created[0]["done"] is False and created[0]["completed_at"] is None
    done = await client.post(f"/api/tasks/{created[0]['id']}/complete", headers=owner)
    assert done.status_code == 200 and done.json()["done"] is True and done.json()["completed_at"]
    open_page = (await client.get(f"{tasks_url}?done=false", headers=owner)).json()
    assert open_page["total"] == 2 and {t["title"] for t in open_page["items"]} == {"t1", "t2"}
    done_page = (await client.get(f"{tasks_url}?done=true", headers=owner)).json()
    assert [t["title"] for t in done_page["items"]] == ["t0"]
    page = (await client.get(f"{tasks_url}?limit=1&offset=1", headers=owner)).json()
    assert page["total"] == 3 and [t["title"] for t in page["items"]] == ["t1"]
    renamed = await client.patch(f"/api/tasks/{created[1]['id']}", json={"title": "renamed"}, headers=owner)
    assert renamed.json()["title"] == "renamed" and renamed.json()["done"] is False
    assert (await client.delete(f"/api/tasks/{created[1]['id']}", headers=owner)).status_code == 204
    assert (await client.get(tasks_url, headers=owner)).json()["total"] == 2
    # deleting the project removes its tasks
    await client.delete(f"/api/projects/{project['id']}", headers=owner)
    assert await db.fetchval("SELECT count(*) FROM tasks") == 0


async def test_task_completed_event_only_on_transition(client, db, owner):
    project = await create_project(client, owner)
    task = (await client.post(f"/api/projects/{project['id']}/tasks", json={"title": "t"}, headers=owner)).json()
    for _ in range(2):  # idempotent
        response = await client.post(f"/api/tasks/{task['id']}/complete", headers=owner)
        assert response.status_code == 200 and response.json()["done"] is True
    await client.patch(f"/api/tasks/{task['id']}", json={"done": True}, headers=owner)
    events = await db.fetch("SELECT properties FROM analytics_outbox WHERE event = 'task_completed'")
    assert len(events) == 1
    reopened = await client.patch(f"/api/tasks/{task['id']}", json={"done": False}, headers=owner)
    assert reopened.json()["done"] is False and reopened.json()["completed_at"] is None
    await client.post(f"/api/tasks/{task['id']}/complete", headers=owner)
    assert await db.fetchval("SELECT count(*) FROM analytics_outbox WHERE event = 'task_completed'") == 2


@pytest.mark.parametrize(
    "payload", [{"title": ""}, {"title": "x" * 501}, {"title": None}, {"done": None}, {"done": "maybe"}]
)
async def test_task_patch_validation(client, db, owner, payload):
    project = await create_project(client, owner)
    task = (await client.post(f"/api/projects/{project['id']}/tasks", json={"title": "t"}, headers=owner)).json()
    response = await client.patch(f"/api/tasks/{task['id']}", json=payload, headers=owner)
    assert response.status_code == 422
    fresh = (await client.get(f"/api/projects/{project['id']}/tasks", headers=owner)).json()["items"][0]
    assert fresh == task


async def test_unknown_task_and_project_are_404(client, db, owner):
    missing = uuid.uuid4()
    assert (await client.post(f"/api/tasks/{missing}/complete", headers=owner)).status_code == 404
    assert (await client.post(f"/api/projects/{missing}/tasks", json={"title": "t"}, headers=owner)).status_code == 404
    assert (await client.get(f"/api/projects/{missing}/tasks", headers=owner)).status_code == 404
