"""The backend's JSON log (one access line per request, backend/app/core/request_middleware.py), read from its file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def lines(path: Path) -> list[dict[str, Any]]:
    """Every JSON object line of the log (non-JSON lines, e.g. a crash banner, are skipped)."""
    out = []
    with path.open("rb") as fh:
        for raw in fh:
            raw = raw.strip()
            if raw.startswith(b"{"):
                try:
                    out.append(json.loads(raw))
                except ValueError:
                    continue
    return out


def access_line(path: Path, request_id: str) -> dict[str, Any]:
    """The access line for `request_id`; AssertionError (for eventually()) while it is not there."""
    found = [ln for ln in lines(path) if ln.get("request_id") == request_id and ln.get("event") == "request"]
    assert found, f"no access line with request_id={request_id} in {path}"
    assert len(found) == 1, f"{len(found)} access lines for request_id={request_id}: {found}"
    return found[0]


def lines_for(path: Path, request_id: str) -> list[dict[str, Any]]:
    return [ln for ln in lines(path) if ln.get("request_id") == request_id]
