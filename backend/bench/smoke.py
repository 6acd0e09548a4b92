"""One request round of a benchmark variant, for the test that every variant builds and answers
(tests/test_bench_variants.py):

    python -m bench.smoke MODE [MODE ...]

For each mode in turn, builds bench/app_factory.py's app in this process, runs its lifespan,
signs a user up, creates a project and reads it back cached and listed (the two benchmarked
endpoints), and prints one JSON line per mode: the status codes and the X-Request-ID of the last
response. Variants change process-wide state (Sentry, logging, OpenTelemetry's patches), so only
modes that leave each other alone share a process (off, seed, full in that order: full then runs
without Sentry, which the process set up for the first); otel and handwired get their own.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid

import httpx

RESULT_PREFIX = "bench.smoke result: "  # the app's own log lines share stdout


async def _round(mode: str) -> dict[str, object]:
    from bench.app_factory import create_app

    os.environ["INSTRUMENTATION"] = mode
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            signup = await http.post("/api/auth/signup", json={
                "email": f"smoke-{uuid.uuid4().hex[:8]}@example.com", "password": "bench-password", "name": "S"})
            auth = {"Authorization": f"Bearer {signup.json()['token']}"}
            created = await http.post("/api/projects", json={"name": "p", "description": "d"}, headers=auth)
            cached = await http.get(f"/api/projects/{created.json()['id']}", headers=auth)
            listed = await http.get("/api/projects?limit=20", headers=auth)
    return {"mode": mode, "statuses": [signup.status_code, created.status_code, cached.status_code, listed.status_code],
            "request_id": listed.headers.get("x-request-id")}


def main() -> int:
    for mode in sys.argv[1:] or [os.environ.get("INSTRUMENTATION", "full")]:
        print(RESULT_PREFIX + json.dumps(asyncio.run(_round(mode))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
