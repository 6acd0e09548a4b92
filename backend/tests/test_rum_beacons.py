"""The browser's beacons against the real app, PostgreSQL and Redis: browser errors by type and page,
anonymous funnel page views, their bounds (bad input -> 4xx and nothing counted), their rate limit,
the client-crash fault header and the feature adoption gauges."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.conftest import bearer, signup


def sample(name: str, labels: dict | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def browser_errors_total() -> float:
    return sum(s.value for m in REGISTRY.collect() if m.name == "browser_errors"
               for s in m.samples if s.name == "browser_errors_total")


def page_views_total() -> float:
    return sum(s.value for m in REGISTRY.collect() if m.name == "page_views"
               for s in m.samples if s.name == "page_views_total")


async def test_browser_errors_counted_by_bounded_type_and_page_template(client):
    labels = {"error_type": "TypeError", "page": "/projects/[id]"}
    before = sample("browser_errors_total", labels)
    ok = await client.post("/api/rum/errors", json={"type": "TypeError", "page": "/projects/5f0c?x=1#y"})
    assert ok.status_code == 204, ok.text
    assert sample("browser_errors_total", labels) == before + 1
    # well-formed but unknown type, unknown page: folded into "other", never a new series
    other = {"error_type": "other", "page": "other"}
    before_other = sample("browser_errors_total", other)
    assert (await client.post("/api/rum/errors", json={"type": "MyFancyError123", "page": "/evil"})).status_code == 204
    assert sample("browser_errors_total", other) == before_other + 1
    assert sample("browser_errors_total", {"error_type": "MyFancyError123", "page": "other"}) == 0


async def test_bad_browser_error_beacons_are_4xx_and_count_nothing(client):
    before = browser_errors_total()
    bad_bodies = [
        {"type": "TypeError"},                                               # no page
        {"type": "Cannot read properties of undefined (reading 'x')", "page": "/"},  # a message, not a type
        {"type": "x" * 65, "page": "/"},                                     # longer than an identifier
        {"type": "ada@example.com", "page": "/"},                            # PII-shaped
        {"type": "TypeError", "page": "/", "message": "secret text"},        # extra fields refused
        {"type": 42, "page": "/"},
        {"type": "TypeError", "page": "x" * 201},
        {"type": "TypeError", "page": "/caf\u00e9"},                          # not printable ASCII
    ]
    for body in bad_bodies:
        response = await client.post("/api/rum/errors", json=body)
        assert response.status_code == 422, (body, response.status_code)
    big = {"type": "TypeError", "page": "/" + "a" * 199, "pad": "b" * 3000}
    assert (await client.post("/api/rum/errors", json=big)).status_code == 413
    assert (await client.post("/api/rum/errors", content=b"not json",
                              headers={"Content-Type": "application/json"})).status_code == 422
    assert browser_errors_total() == before


async def test_anonymous_page_views_of_funnel_pages(client):
    before = {page: sample("page_views_total", {"page": page}) for page in ("/", "/pricing", "/signup")}
    for page in ("/", "/pricing", "/signup"):
        response = await client.post("/api/rum/pageviews", json={"page": page})
        assert response.status_code == 204, response.text
        assert "set-cookie" not in response.headers
    after = {page: sample("page_views_total", {"page": page}) for page in before}
    assert after == {page: value + 1 for page, value in before.items()}


async def test_bad_page_view_beacons_are_4xx_and_count_nothing(client):
    before = page_views_total()
    for body in ({"page": "/dashboard"}, {"page": "/evil"}, {}, {"page": ""}, {"page": "/", "user_id": "u1"},
                 {"page": "/pricing?ref=ada@example.com"}, {"page": "/signup/"},
                 {"page": "/", "email": "ada@example.com"}, {"page": "x" * 201}):
        response = await client.post("/api/rum/pageviews", json=body)
        assert response.status_code == 422, (body, response.status_code)
    assert (await client.post("/api/rum/pageviews", json={"page": "/", "pad": "x" * 3000})).status_code == 413
    assert page_views_total() == before


@pytest.mark.usefixtures("one_rate_limit_window")
async def test_beacons_are_rate_limited_per_client(make_client, settings):
    limited = await make_client.client(settings.model_copy(update={"RATE_LIMIT_RUM_PER_MINUTE": 3}),
                                       client_addr=("10.9.8.7", 1234))
    before = page_views_total()
    statuses = [(await limited.post("/api/rum/pageviews", json={"page": "/pricing"})).status_code for _ in range(5)]
    assert statuses == [204, 204, 204, 429, 429]
    assert page_views_total() == before + 3
    rejected = await limited.post("/api/rum/errors", json={"type": "TypeError", "page": "/"})
    assert rejected.status_code == 204, "errors and page views have separate budgets"
    assert sample("rate_limit_rejections_total", {"scope": "rum_page_views"}) >= 2


@pytest.mark.needs_fault_routes
async def test_client_crash_fault_marks_api_responses_only_when_on(make_client, settings, tmp_path):
    enabled = settings.model_copy(update={"FAULT_INJECTION_ENABLED": True, "FAULT_STATE_FILE": str(tmp_path / "f.json")})
    c = await make_client.client(enabled)
    assert "x-fault-client-crash" not in (await c.get("/api/me")).headers
    assert (await c.put("/_faults", json={"client_crash": "yes"})).status_code == 422
    assert (await c.put("/_faults", json={"client_crash": True})).json()["client_crash"] is True
    assert (await c.get("/api/me")).headers.get("x-fault-client-crash") == "1"
    assert (await c.post("/api/rum/pageviews", json={"page": "/"})).headers.get("x-fault-client-crash") == "1"
    assert "x-fault-client-crash" not in (await c.get("/health")).headers
    await c.delete("/_faults")
    assert "x-fault-client-crash" not in (await c.get("/api/me")).headers


async def test_client_crash_header_absent_without_fault_injection(client):
    assert "x-fault-client-crash" not in (await client.get("/api/me")).headers


async def test_adoption_gauges_share_of_active_workspaces(client, settings):
    from app.analytics.adoption import AdoptionSampler

    app = client._transport.app  # noqa: SLF001
    sampler = AdoptionSampler(app.state.engine, interval=60, active_days=settings.ADOPTION_ACTIVE_DAYS)
    assert await sampler.refresh() == (0, 0, 0)
    users = [await signup(client, email=f"adopt{i}@example.com", password="correct horse battery") for i in range(3)]
    # user 0: a project and a completed task; user 1: a project only; user 2: nothing
    for i, user in enumerate(users[:2]):
        headers = bearer(user["token"])
        project = await client.post("/api/projects", json={"name": f"p{i}"}, headers=headers)
        assert project.status_code == 201, project.text
        if i == 0:
            pid = project.json()["id"]
            task = await client.post(f"/api/projects/{pid}/tasks", json={"title": "t"}, headers=headers)
            assert task.status_code == 201, task.text
            done = await client.post(f"/api/tasks/{task.json()['id']}/complete", headers=headers)
            assert done.status_code == 200, done.text
    assert await sampler.refresh() == (3, 2, 1)
    assert sample("workspaces_active") == 3 and sample("workspaces_adopted") == 1
    stale = AdoptionSampler(app.state.engine, interval=60, active_days=0)  # nobody active in the last 0 days
    assert await stale.refresh() == (0, 0, 0)
