"""DB and Redis spans in sampled transactions only (app/core/trace_spans.py), in-process against the
real PostgreSQL and Redis: a sampled request with the n_plus_one fault shows its N+1 statements as
`db` spans named as Sentry's Sqlalchemy integration names them; the cached read shows `cache.get`/
`cache.put` spans around `db.redis` spans with key shapes only; an unsampled request makes no span;
and through gunicorn the N+1 statement spans arrive in a real Spotlight."""

from __future__ import annotations

import json

import httpx
import pytest
import sentry_sdk
from prometheus_client import REGISTRY
from sentry_sdk import tracing

from infra.testkit.spotlight import SpotlightCollector
from tests.conftest import TEST_REDIS_URL, bearer, signup
from tests.obs_support import http, spotlight_bin, start_gunicorn, start_spotlight, wait_until

N = 6
COUNT_STATEMENT = "SELECT count(*) FROM tasks WHERE project_id = $1"


def _statements() -> float:
    return REGISTRY.get_sample_value("db_query_duration_seconds_count", {"operation": "select"}) or 0.0


@pytest.fixture
def span_count(monkeypatch):
    """How many sentry_sdk spans were made while a request was being served (a counting wrapper
    around Span.__init__; the test's own httpx client makes spans too, outside any request)."""
    from app.core import correlation

    counter = {"n": 0}
    original = tracing.Span.__init__

    def counting(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if correlation.current() is not None:
            counter["n"] += 1
        original(self, *args, **kwargs)

    monkeypatch.setattr(tracing.Span, "__init__", counting)
    return counter


async def _app_client(settings, tmp_path, rate: float):
    from app.main import create_app

    app = create_app(settings.model_copy(update={
        "SENTRY_TRACES_SAMPLE_RATE": rate, "FAULT_INJECTION_ENABLED": True,
        "FAULT_STATE_FILE": str(tmp_path / "faults.json")}))
    return app


async def _seed(c: httpx.AsyncClient) -> tuple[dict, list[str]]:
    user = await signup(c, email="spans@example.com", password="correct horse battery")
    c.cookies.clear()
    ids = []
    for i in range(N):
        response = await c.post("/api/projects", json={"name": f"p{i}"}, headers=bearer(user["token"]))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    assert (await c.put("/_faults", json={"n_plus_one": 50, "n_plus_one_routes": ["/api/projects"]})).status_code == 200
    return user, ids


@pytest.mark.needs_fault_routes
async def test_sampled_n_plus_one_request_has_its_statement_spans_and_cache_spans(settings, db, sentry_events, tmp_path):
    app = await _app_client(settings, tmp_path, rate=1.0)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            user, ids = await _seed(c)
            sentry_sdk.flush()
            [signup_tx] = [t for t in sentry_events.items("transaction") if t["transaction"] == "/api/auth/signup"]
            sentry_events.envelopes.clear()
            auth = bearer(user["token"])
            listed = await c.get("/api/projects", headers={**auth, "X-Request-ID": "spans-list"})
            assert listed.status_code == 200 and listed.json()["total"] == N
            for _ in range(2):  # a miss (GET + SET), then a hit
                assert (await c.get(f"/api/projects/{ids[0]}", headers=auth)).status_code == 200
    sentry_sdk.flush()
    by_name: dict[str, list[dict]] = {}
    for t in sentry_events.items("transaction"):
        by_name.setdefault(t["transaction"], []).append(t)

    # the rate limiter's pipeline: one span with its command names, never its keys (client address)
    [pipeline] = [s for s in signup_tx["spans"] if s["description"] == "redis.pipeline.execute"]
    assert pipeline["op"] == "db.redis" and pipeline["data"]["redis.commands"]["first_ten"] == ["INCRBY", "EXPIRE"]
    assert "rl:" not in json.dumps(pipeline)

    [listing] = by_name["/api/projects"]
    assert listing["tags"]["request_id"] == "spans-list"
    db_spans = [s for s in listing["spans"] if s["op"] == "db"]
    counts = [s for s in db_spans if s["description"].startswith(COUNT_STATEMENT)]
    assert len(counts) == N, [s["description"] for s in db_spans]
    assert len({s["description"] for s in counts}) == 1  # one parameterised statement, repeated: the N+1
    root = listing["contexts"]["trace"]["span_id"]
    for s in db_spans:
        assert s["data"]["db.system"] == "postgresql" and s["data"]["db.driver.name"] == "asyncpg"
        assert s["data"]["db.name"] and s["data"]["server.address"] == "127.0.0.1"
        assert s["parent_span_id"] == root and s["trace_id"] == listing["contexts"]["trace"]["trace_id"]
        assert listing["start_timestamp"] <= s["start_timestamp"] <= s["timestamp"] <= listing["timestamp"]
    # What Sentry's N+1 detector looks for (docs.sentry.io, performance issues, N+1 queries): at least
    # five sequential, non-overlapping db spans with one full (untruncated) description, after a
    # "source" db span; it also wants them to take > 50 ms together, which this small table does not.
    assert all(a["timestamp"] <= b["start_timestamp"] for a, b in zip(counts, counts[1:]))
    assert not counts[0]["description"].endswith("...")
    [source] = [s for s in db_spans if s["description"].startswith("SELECT id FROM projects")]
    assert source["timestamp"] <= counts[0]["start_timestamp"]

    reads = by_name["/api/projects/{project_id}"]
    assert len(reads) == 2
    hits = []
    for t in reads:
        spans = {s["span_id"]: s for s in t["spans"]}
        cache = [s for s in spans.values() if s["op"].startswith("cache.")]
        redis = [s for s in spans.values() if s["op"] == "db.redis"]
        assert redis and all(s["data"]["db.system"] == "redis" for s in redis)
        for s in cache:
            [child] = [r for r in redis if r["parent_span_id"] == s["span_id"]]
            assert child["description"].split(" ")[0] in ("GET", "SET", "SETEX")
            assert s["data"]["cache.key"] == [s["description"]] and s["description"].endswith(":*")
        project_gets = [s for s in cache if s["op"] == "cache.get" and s["description"].endswith("project:*")]
        assert len(project_gets) == 1
        hits.append(project_gets[0]["data"]["cache.hit"])
        assert (len([s for s in cache if s["op"] == "cache.put" and "project:" in s["description"]])
                == (0 if project_gets[0]["data"]["cache.hit"] else 1))
        for s in spans.values():  # key shapes only: no project ID, no session token hash
            assert ids[0] not in s["description"] and user["token"] not in str(s)
    assert hits == [False, True]


@pytest.mark.needs_fault_routes
async def test_unsampled_request_makes_no_span_and_still_times_its_statements(settings, db, sentry_events, tmp_path,
                                                                          span_count):
    app = await _app_client(settings, tmp_path, rate=0.0)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            user, ids = await _seed(c)
            auth = bearer(user["token"])
            spans_before, statements_before = span_count["n"], _statements()
            assert (await c.get("/api/projects", headers=auth)).status_code == 200
            assert (await c.get(f"/api/projects/{ids[0]}", headers=auth)).status_code == 200
            assert span_count["n"] == spans_before == 0
            assert _statements() - statements_before >= N + 1  # the hooks ran: timed, not traced
    sentry_sdk.flush()
    assert sentry_events.items("transaction") == []


# --- our spans serialized once (trace_spans.serialize_our_spans), not walked by the SDK -----------

def _event_with(span_dicts: list[dict]) -> dict:
    return {"type": "transaction", "transaction": "/t", "spans": span_dicts}


def test_our_spans_skip_the_sdk_serializer_and_scrubber_with_the_same_output(sentry_events):
    """What the shortcut must keep: the span JSON the SDK's own scrubber + serializer would make,
    byte for byte; and any span with a data key outside ALLOWED_DATA_KEYS (or not ours) still
    scrubbed by the EventScrubber (a denylisted key filtered)."""
    from sentry_sdk.serializer import serialize

    from app.core import trace_spans
    from app.core.sentry import make_event_scrubber

    with sentry_sdk.start_transaction(name="/t", op="http.server", sampled=True) as tx:
        db_span = tx.start_child(op="db", name="SELECT 1", origin=trace_spans.DB_ORIGIN)
        db_span.update_data({"db.system": "postgresql", "db.name": "n", "server.port": 5432})
        db_span.finish()
        pipe = tx.start_child(op="db.redis", name="redis.pipeline.execute", origin=trace_spans.REDIS_ORIGIN)
        pipe.update_data({"redis.commands": {"count": 2, "first_ten": ["INCRBY", "EXPIRE"]}, "cache.hit": True})
        pipe.set_status("internal_error")
        pipe.finish()
        odd = tx.start_child(op="db", name="SELECT 2", origin=trace_spans.DB_ORIGIN)
        odd.set_data("password", "hunter2")  # not an allowed key: must take the scrubbed path
        odd.finish()
        other = tx.start_child(op="http.client", name="GET /x", origin="auto.http.httpx")
        other.set_data("db.system", "x")
        other.finish()
    spans = [s.to_json() for s in (db_span, pipe, odd, other)]

    reference = [serialize(_event_with([dict(s)]))["spans"][0] for s in spans[:2]]
    event = trace_spans.serialize_our_spans(_event_with([dict(s) for s in spans]), {})
    shortcut = event["spans"]
    assert [type(s) for s in shortcut] == [trace_spans.SerializedSpan] * 2 + [dict, dict]
    make_event_scrubber().scrub_event(event)
    out = serialize(event)["spans"]
    assert json.dumps(out[:2], sort_keys=True) == json.dumps(reference, sort_keys=True)
    assert out[0]["start_timestamp"].endswith("Z") and out[1]["status"] == "internal_error"
    assert out[2]["data"]["password"] == "[Filtered]" and "hunter2" not in json.dumps(out)
    assert out[3]["data"]["db.system"] == "x" and isinstance(out[3]["start_timestamp"], str)

    # and the client (build_options) runs it: the transaction sent carries the same spans
    assert sentry_sdk.get_client().get_integration(trace_spans.TraceSpansIntegration) is not None
    sentry_sdk.flush()
    [sent] = sentry_events.items("transaction")
    assert json.dumps(sent["spans"], sort_keys=True) == json.dumps(out, sort_keys=True)


# --- the same, through gunicorn into a real Spotlight ---------------------------------------------

@pytest.mark.needs_fault_routes
@pytest.mark.skipif(spotlight_bin() is None, reason="Spotlight not installed under infra/spotlight")
def test_sampled_n_plus_one_statement_spans_reach_spotlight(database_url, redis_prefix, tmp_path, db):
    spot, spot_url = start_spotlight()
    collector = SpotlightCollector(spot_url)
    proc = None
    try:
        collector.start(timeout=20)
        env = {"DATABASE_URL": database_url, "REDIS_URL": TEST_REDIS_URL, "REDIS_KEY_PREFIX": redis_prefix,
               "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "mp"), "SENTRY_TRACES_SAMPLE_RATE": "1.0", "SENTRY_TRACES_MAX_PER_SECOND": "0",
               "SENTRY_SPOTLIGHT_URL": spot_url + "/stream", "ANALYTICS_DELIVERY_ENABLED": "false",
               "FAULT_INJECTION_ENABLED": "true", "FAULT_STATE_FILE": str(tmp_path / "faults.json"),
               "LOG_LEVEL": "WARNING"}
        proc, api, _ = start_gunicorn(env, workers=1)
        status, _, body = http("POST", api + "/api/auth/signup",
                               {"email": "spot-spans@example.com", "password": "correct horse battery", "name": "S"})
        assert status == 201, body
        auth = {"Authorization": f"Bearer {json.loads(body)['token']}"}
        for i in range(N):
            assert http("POST", api + "/api/projects", {"name": f"p{i}"}, headers=auth)[0] == 201
        assert http("PUT", api + "/_faults", {"n_plus_one": 50, "n_plus_one_routes": ["/api/projects"]})[0] == 200
        assert http("GET", api + "/api/projects", headers={**auth, "X-Request-ID": "spot-n-plus-one"})[0] == 200

        def listing() -> dict | None:
            found = [t for t in collector.transactions() if (t.get("tags") or {}).get("request_id") == "spot-n-plus-one"]
            return found[0] if found else None

        transaction = wait_until(listing, timeout=20, interval=0.2, what="the sampled /api/projects transaction in Spotlight")
        assert transaction["transaction"] == "/api/projects"
        db_spans = [s for s in transaction["spans"] if s["op"] == "db"]
        counts = [s for s in db_spans if s["description"].startswith(COUNT_STATEMENT)]
        assert len(counts) == N and all(s["data"]["db.system"] == "postgresql" for s in counts)
        assert any(s["op"] == "cache.get" and s["description"].endswith("session:*") for s in transaction["spans"])
    finally:
        if proc is not None:
            proc.stop()
        spot.stop()  # first: its end closes the event stream the collector's thread is reading
        collector.stop()
