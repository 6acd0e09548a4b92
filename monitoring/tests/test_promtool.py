"""promtool: configs and rules are valid, and every unit test passes in both profiles."""

import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from monitoring.generate import ROOT

PROM = ROOT / "prometheus"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=PROM, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus.fast.yml", "prometheus.docker.yml"])
def test_check_config(config):
    result = run("promtool", "check", "config", config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_rules():
    files = sorted(str(p.relative_to(PROM)) for p in (PROM / "rules").glob("*/*.yml"))
    assert len(files) == 2
    result = run("promtool", "check", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_unit_tests_pass_in_both_profiles():
    profiles = sorted(p.name for p in (PROM / "tests").iterdir())
    assert profiles == ["fast", "production"]
    # one promtool per profile, side by side (2 cores)
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(profiles, pool.map(
            lambda prof: run("promtool", "test", "rules",
                             *sorted(str(p.relative_to(PROM)) for p in (PROM / "tests" / prof).glob("*.yml"))),
            profiles)))
    failed = {k: r.stdout[-4000:] + r.stderr[-2000:] for k, r in results.items() if r.returncode != 0}
    assert not failed, failed
