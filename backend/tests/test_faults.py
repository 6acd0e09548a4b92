"""The /_faults schema is the catalogue's knobs: bad values are a 422 and change nothing."""

from __future__ import annotations

import pytest

from app.faults.catalogue import KNOBS, FaultState, FaultsIn


def test_state_and_request_model_have_exactly_the_catalogue_knobs():
    assert set(FaultsIn.model_fields) == set(KNOBS)
    assert set(FaultState.__dataclass_fields__) == set(KNOBS)
    assert FaultState().to_json() == {name: spec["default"] for name, spec in KNOBS.items()}


def _bad_values() -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = [("no_such_knob", True)]
    for name, spec in KNOBS.items():
        if spec["type"] in ("number", "integer"):
            out += [(name, spec["minimum"] - 1), (name, spec["maximum"] + 1), (name, "0.5")]
        if spec["type"] == "integer":
            out.append((name, 1.5))
        if spec["type"] == "boolean":
            out += [(name, "yes"), (name, 1)]
        if spec["type"] == "routes":
            out += [(name, ["/api/me"] * (spec["maxItems"] + 1)), (name, "/api/me")]
    return out


@pytest.fixture
async def faults_client(make_client, settings, tmp_path):
    enabled = settings.model_copy(update={"FAULT_INJECTION_ENABLED": True, "FAULT_STATE_FILE": str(tmp_path / "f.json")})
    return await make_client.client(enabled)


@pytest.mark.needs_fault_routes
async def test_bad_values_are_422_and_nothing_is_applied(faults_client):
    c = faults_client
    applied = {"latency_ms": 5, "latency_routes": ["/api/me"], "billing_timeout": True}
    assert (await c.put("/_faults", json=applied)).status_code == 200
    before = (await c.get("/_faults")).json()
    assert before["latency_ms"] == 5 and before["billing_timeout"] is True
    for name, value in _bad_values():
        # a valid knob next to the bad one: the whole request is refused, not half applied
        body = {"error_ratio": 0.5, name: value}
        response = await c.put("/_faults", json=body)
        assert response.status_code == 422, (body, response.text)
        assert name in response.text
        assert (await c.get("/_faults")).json() == before, body
    assert (await c.delete("/_faults")).json() == FaultState().to_json()


@pytest.mark.needs_fault_routes
async def test_every_knob_round_trips(faults_client):
    c = faults_client
    body = {}
    for name, spec in KNOBS.items():
        # integers just above their minimum: db_pool_hold really checks out connections
        body[name] = {"number": spec.get("maximum"), "integer": (spec.get("minimum") or 0) + 1, "boolean": True,
                      "routes": ["/api/projects"]}[spec["type"]]
    response = await c.put("/_faults", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == body == (await c.get("/_faults")).json()
    await c.delete("/_faults")
