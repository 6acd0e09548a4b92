"""Thin HTTP clients for what the tests and the harness talk to: Prometheus, Alertmanager, the
capture server and the backend's fault-injection admin route (all on loopback). httpx does the
HTTP; these only name the endpoints from docs/contracts.md and unwrap their JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from datetime import UTC, datetime, timedelta

import httpx


class Prometheus:
    def __init__(self, url: str, timeout: float = 15.0) -> None:
        self.http = httpx.Client(base_url=url, timeout=timeout)

    def _data(self, path: str, **params: Any) -> Any:
        resp = self.http.get(path, params=params)
        resp.raise_for_status()
        body = resp.json()
        if body.get("status") != "success":
            raise ValueError(f"{path}: {body}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = at
        return self._data("/api/v1/query", **params)["result"]

    def value(self, expr: str) -> float:
        """Sum of an instant vector (0 when it is empty)."""
        return sum(float(sample["value"][1]) for sample in self.query(expr))

    def query_range(self, expr: str, start: float, end: float, step: float = 1.0) -> list[dict]:
        return self._data("/api/v1/query_range", query=expr, start=start, end=end, step=step)["result"]

    def alerts(self) -> list[dict]:
        return self._data("/api/v1/alerts")["alerts"]

    def rule_groups(self) -> list[dict]:
        return self._data("/api/v1/rules")["groups"]

    def config(self) -> str:
        return self._data("/api/v1/status/config")["yaml"]

    def reload(self) -> None:
        self.http.post("/-/reload").raise_for_status()


class Alertmanager:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.http = httpx.Client(base_url=url, timeout=timeout)

    def status(self) -> dict:
        """/api/v2/status: config, version and the cluster (its status and peers)."""
        resp = self.http.get("/api/v2/status")
        resp.raise_for_status()
        return resp.json()

    def alerts(self) -> list[dict]:
        """Alertmanager's view, each with `status.state`, `status.inhibitedBy` and `receivers`."""
        resp = self.http.get("/api/v2/alerts")
        resp.raise_for_status()
        return resp.json()

    def silence(self, matchers: dict[str, str], hours: float = 24, comment: str = "") -> str:
        """A silence for alerts whose labels equal `matchers` (Alertmanager's API v2); its ID."""
        now = datetime.now(UTC)
        body = {"matchers": [{"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in matchers.items()],
                "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=hours)).isoformat(),
                "createdBy": "tests", "comment": comment or "silenced by a test"}
        resp = self.http.post("/api/v2/silences", json=body)
        resp.raise_for_status()
        return resp.json()["silenceID"]


class Capture:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.http = httpx.Client(base_url=url, timeout=timeout)

    def captured(self, kind: str | None = None, since: int = 0) -> list[dict]:
        params: dict[str, Any] = {"since": since}
        if kind:
            params["kind"] = kind
        resp = self.http.get("/api/captured", params=params)
        resp.raise_for_status()
        return resp.json()

    def last_seq(self) -> int:
        items = self.captured()
        return max((i["seq"] for i in items), default=0)

    def mixpanel_events(self) -> list[dict]:
        """Mixpanel events in arrival order: {event, properties, seq, endpoint}."""
        return [{**item["event"], "seq": item["seq"], "endpoint": item.get("endpoint")}
                for item in self.captured("mixpanel")]

    def mixpanel_down(self, down: bool) -> None:
        self.http.put("/_control/mixpanel", json={"down": down}).raise_for_status()


class Faults:
    """The backend's `/_faults` admin route (loopback only, FAULT_INJECTION_ENABLED=true)."""

    def __init__(self, backend_url: str, timeout: float = 5.0) -> None:
        self.http = httpx.Client(base_url=backend_url, timeout=timeout)

    def get(self) -> dict:
        resp = self.http.get("/_faults")
        resp.raise_for_status()
        return resp.json()

    def set(self, **state: Any) -> dict:
        resp = self.http.put("/_faults", json=state)
        resp.raise_for_status()
        return resp.json()

    def clear(self) -> None:
        self.http.delete("/_faults").raise_for_status()

    @contextmanager
    def injected(self, **state: Any) -> Iterator[dict]:
        """`with faults.injected(error_ratio=1.0):` -- the faults are cleared again even on failure."""
        applied = self.set(**state)
        try:
            yield applied
        finally:
            self.clear()
