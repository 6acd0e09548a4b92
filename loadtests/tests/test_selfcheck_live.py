"""The harness's two self-checks, for real: a rule broken on purpose makes it fail and name the alert.

One harness run (own data folder, free ports, no frontend) against a modified copy of the fast
rules: SlowAPI's threshold lowered to 1 ms (so it fires in `steady`) and DatabaseConnectionsHigh's
raised past 100% utilisation (so `db_pool_exhaustion` cannot fire it). The run must exit 1 and say
both, and leave no process behind. About 2 minutes; `-m "not live"` skips it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra.product import PRODUCT

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.live, pytest.mark.needs_fault_routes]


def broken_rules(target: Path) -> None:
    from monitoring.profiles import FAST
    from monitoring.rules.catalogue import rule_groups

    target.mkdir(parents=True, exist_ok=True)
    replaced = {"SlowAPI": 0, "DatabaseConnectionsHigh": 0}
    for name, doc in rule_groups(FAST).items():
        for group in doc["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") == "SlowAPI":
                    rule["expr"] = rule["expr"].replace("p95_rate5m > 2", "p95_rate5m > 0.001")
                    replaced["SlowAPI"] += "> 0.001" in rule["expr"]
                if rule.get("alert") == "DatabaseConnectionsHigh":
                    rule["expr"] = rule["expr"].replace("> 0.8", "> 1.5")
                    replaced["DatabaseConnectionsHigh"] += "> 1.5" in rule["expr"]
        (target / name).write_text(yaml.safe_dump(doc, sort_keys=False))
    assert replaced == {"SlowAPI": 1, "DatabaseConnectionsHigh": 1}, f"rule text changed: {replaced}"


def test_broken_rules_make_the_harness_fail_and_name_the_alerts(tmp_path: Path) -> None:
    broken_rules(tmp_path / "rules")
    data = ROOT / ".data" / "loadtests-selfcheck"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PORT")}
    env.update(STACK_DATA_DIR=str(data), PYTHONPATH=str(ROOT),
               LOADTEST_DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PRODUCT.slug}_loadtest_selfcheck",
               LOADTEST_REDIS_URL="redis://127.0.0.1:6379/11")
    proc = subprocess.run(
        [sys.executable, "-m", "loadtests.harness", "--scenarios", "steady,db_pool_exhaustion",
         "--rules-dir", str(tmp_path / "rules"), "--no-frontend", "--steady-seconds", "25",
         "--report-dir", str(tmp_path / "report")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert "steady: alert SlowAPI fired" in out, out[-3000:]
    assert "db_pool_exhaustion: expected alert DatabaseConnectionsHigh did not fire" in out, out[-3000:]
    # nothing else failed: the harness's own plumbing worked
    failures = [line for line in out.splitlines() if "] FAIL " in line]
    assert all("SlowAPI" in f or "DatabaseConnectionsHigh" in f for f in failures), failures
    # every process the run started is gone
    pids = list((data / "pids").glob("*.pid")) if (data / "pids").exists() else []
    assert pids == [], [p.read_text() for p in pids]
    assert (tmp_path / "report" / "report.md").exists()
