"""The harness's own native stack: the stack library (infra/local/stack.py) with the fast alert
profile, its own data folder and free ports, so that it never clashes with a developer's `make up`
or the e2e test stack.

What the harness sets (each overridable from the caller's environment):
- data folder .data/loadtests (`STACK_DATA_DIR`); every port free, picked at start;
- database .../<slug>_loadtest, Redis DB 10 (`LOADTEST_DATABASE_URL`, `LOADTEST_REDIS_URL`);
- `RATE_LIMIT_AUTH_PER_MINUTE` = 100000: every Locust user signs up from 127.0.0.1;
- `RATE_LIMIT_RUM_PER_MINUTE` = 100000: and sends its page-view beacons from there too;
- `ANALYTICS_RETRY_MAX_SECONDS` = 4: the outbox retries at most every 4 s, so a Mixpanel outage
  drains within seconds of recovery (production keeps its 300 s backoff cap);
- `FAULT_INJECTION_ENABLED` = true (the stack's default for the local stack, stated explicitly).

Prometheus' and Alertmanager's storage are wiped before `up`: alerts that compare with the past
(LatencyRegression's day-ago offset, NewErrorType's history) must not see an earlier run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from infra.local.services import Ports
from infra.local.stack import Stack, down
from infra.product import PRODUCT
from infra.local.topology import INSTANCES
from monitoring.profiles import FAST

ROOT = Path(__file__).resolve().parents[1]
DATABASE_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PRODUCT.slug}_loadtest"
REDIS_URL = "redis://127.0.0.1:6379/10"
BACKEND_ENV = {
    "RATE_LIMIT_AUTH_PER_MINUTE": "100000",
    "RATE_LIMIT_RUM_PER_MINUTE": "100000",
    "ANALYTICS_RETRY_MAX_SECONDS": "4",
    "FAULT_INJECTION_ENABLED": "true",
    "SENTRY_TRACES_SAMPLE_RATE": "0.01",
    "SENTRY_PROFILES_SAMPLE_RATE": "0",
}


def data_dir() -> Path:
    return Path(os.environ.get("STACK_DATA_DIR", ROOT / ".data" / "loadtests")).resolve()


def frontend_built() -> bool:
    return (ROOT / "frontend" / ".next" / "BUILD_ID").exists()


def harness_stack(with_frontend: bool, log=print, topology: str = "single",
                  postgres_max_connections: int | None = None) -> Stack:
    """The fast-profile stack on free ports; a previous run's leftovers in its data folder are stopped.
    topology "ha": two backends behind HAProxy, two Prometheus, an Alertmanager cluster."""
    data = data_dir()
    down(data)
    for sub in ("prometheus", "alertmanager", *ha_storage()):
        shutil.rmtree(data / sub, ignore_errors=True)
    (data / "stack.env").unlink(missing_ok=True)
    if postgres_max_connections:  # a fresh small server each run (its setting is the proof's premise)
        shutil.rmtree(data / "pg", ignore_errors=True)
    return Stack(Ports.free(), FAST, data, with_frontend=with_frontend,
                 database_url=os.environ.get("LOADTEST_DATABASE_URL", DATABASE_URL),
                 redis_url=os.environ.get("LOADTEST_REDIS_URL", REDIS_URL),
                 backend_env={k: os.environ.get(k, v) for k, v in BACKEND_ENV.items()}, log=log,
                 topology=topology, postgres_max_connections=postgres_max_connections)


def ha_storage() -> list[str]:
    """The HA topology's Prometheus and Alertmanager data folders (infra/local/topology.py)."""
    return [f"{kind}-{name}" for kind in ("prometheus", "alertmanager") for name in INSTANCES]
