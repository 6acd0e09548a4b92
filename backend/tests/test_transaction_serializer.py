"""app/core/transaction_serializer.py: transaction events serialized by the short walk are, byte for
byte, what sentry-sdk's own serializer makes of them; whatever the walk does not reproduce goes to
the SDK's serializer; error events never take the path. Real transactions of the app (in-process,
real PostgreSQL and Redis) and edge cases."""

from __future__ import annotations

import enum
import json
from datetime import datetime, timedelta, timezone

import pytest
import sentry_sdk
from sentry_sdk.serializer import serialize
from sentry_sdk.utils import AnnotatedValue

from app.core import transaction_serializer as ts
from app.core.trace_spans import SerializedSpan
from tests.conftest import bearer, signup


def _sdk(event: dict) -> str:
    return json.dumps(serialize(dict(event)))


def _walked(event: dict) -> str:
    """What the SDK's serializer gets from a PreparedTransaction (the walk, or the SDK's fallback)."""
    return json.dumps(ts.PreparedTransaction(event).__sentry_repr__())


def _walk_only(event: dict) -> str:
    """The walk itself, without the fallback (raises where it would fall back)."""
    return json.dumps(ts._Walk().event(dict(event)))


class Colour(str, enum.Enum):
    RED = "red"


class Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def _edge_event() -> dict:
    now = datetime(2026, 12, 1, 18, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    return {
        "type": "transaction", "transaction": "/t", "transaction_info": {"source": Colour.RED},
        "timestamp": now, "start_timestamp": now.replace(tzinfo=None),
        "contexts": {"trace": {"trace_id": "a" * 32, "data": {"n": 1, "f": 0.5, "nan": float("nan"),
                                                             "inf": float("-inf"), "ok": True, "none": None}}},
        "tags": {Colour.RED: "x", 7: "int key"},
        "request": {"headers": {"authorization": AnnotatedValue.substituted_because_contains_sensitive_data(),
                                "x": AnnotatedValue("v", {"rem": [["!config", "x"]]})},
                    "method": b"GET", "url": bytearray(b"http://t/\xff")},
        "spans": [SerializedSpan({"op": "db", "data": {"k": 1}}),
                  {"op": "http.client", "description": "GET /x", "start_timestamp": now,
                   "data": {"list": [1, (2, 3), {4}, frozenset({5})], "obj": Opaque(), "broken": BrokenRepr(),
                            "nested": [{"deep": [AnnotatedValue("z", {"len": 9})]}]}}],
        "measurements": {}, "extra": {}, "platform": "python",
    }


def test_edge_cases_walk_to_the_sdk_output(sentry_events):
    event = _edge_event()
    assert _walk_only(event) == _sdk(event)
    assert _walked(event) == _sdk(event)
    assert '"_meta"' in _walked(event)  # the annotations were carried over


@pytest.mark.parametrize("change", [
    pytest.param(lambda e: e.update(extra={f"k{i}": {"a": {"b": {"c": {"d": {"e": 1}}}}} for i in range(20)}),
                 id="extra databag trimmed"),
    pytest.param(lambda e: e["request"].update(data={"password": "x"}), id="request body"),
    pytest.param(lambda e: e.update(breadcrumbs={"values": [{"message": "m", "data": {"x": list(range(30))}}]}),
                 id="breadcrumbs"),
    pytest.param(lambda e: e["contexts"].update(loop=e["contexts"]), id="cycle"),
    pytest.param(lambda e: e["tags"].update({BrokenStr(): "v"}), id="key whose str() raises"),
    pytest.param(lambda e: e["request"]["headers"].update(n=AnnotatedValue(AnnotatedValue("v", {}), {})),
                 id="nested annotation"),
])
def test_what_the_walk_does_not_reproduce_goes_to_the_sdk_serializer(sentry_events, change):
    event = _edge_event()
    change(event)
    with pytest.raises(Exception):  # noqa: B017, PT011 - _Unsupported, or the error the SDK handles its way
        _walk_only(event)
    assert _walked(event) == _sdk(event)


class BrokenStr:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        return "<broken str>"


def test_options_the_walk_does_not_implement_go_to_the_sdk_serializer(sentry_events, monkeypatch):
    options = sentry_sdk.get_client().options
    event = _edge_event()
    event["transaction"] = "x" * 50
    monkeypatch.setitem(options, "max_value_length", 20)
    reference = json.dumps(serialize(dict(event), max_value_length=20))
    assert _walked(event) == reference and '"!limit"' in reference


def test_only_transactions_are_prepared(sentry_events):
    error = {"type": "error", "message": "m"}
    assert ts.prepare_transaction(error, {}) is error
    assert type(ts.prepare_transaction({"type": "transaction"}, {})) is ts.PreparedTransaction


async def test_the_apps_transactions_are_the_sdk_serializers_output(settings, make_client, sentry_events, monkeypatch):
    """Every transaction of a few real requests (signup, the cached read, the DB list, a 404),
    checked at serialization time against the SDK's serializer, and sent as such."""
    checked: list[str] = []
    original = ts.serialize_transaction

    def compared(event):  # noqa: ANN001, ANN202
        out = original(event)
        assert json.dumps(out) == _sdk(event) == _walk_only(event)
        checked.append(event["transaction"])
        return out

    monkeypatch.setattr(ts, "serialize_transaction", compared)
    c = await make_client.client(settings.model_copy(update={"SENTRY_TRACES_SAMPLE_RATE": 1.0}))
    user = await signup(c, email="serializer@example.com", password="correct horse battery")
    c.cookies.clear()
    auth = {**bearer(user["token"]), "Referer": "http://t/p?token=secret&q=ada@example.com"}
    created = await c.post("/api/projects", json={"name": "p"}, headers=auth)
    assert created.status_code == 201
    for _ in range(2):
        assert (await c.get(f"/api/projects/{created.json()['id']}", headers=auth)).status_code == 200
    assert (await c.get("/api/projects?limit=20", headers=auth)).status_code == 200
    assert (await c.get("/api/projects/00000000-0000-0000-0000-000000000000", headers=auth)).status_code == 404
    sentry_sdk.flush()
    assert {"/api/auth/signup", "/api/projects", "/api/projects/{project_id}"} <= set(checked)
    sent = sentry_events.items("transaction")
    assert len(sent) == len(checked) >= 6
    dumped = json.dumps(sent)
    assert "secret" not in dumped and "ada@example.com" not in dumped and user["token"] not in dumped
