"""docker-compose.yml parses (Debian's docker-compose) and stays consistent with the native stack."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from infra.local.services import PORTS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose (Debian package) is not installed: run `make install`")
    env = {**os.environ, "GRAFANA_ADMIN_PASSWORD": "test-only"}
    out = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
                         capture_output=True, text=True, check=True, cwd=ROOT, env=env).stdout
    return yaml.safe_load(out)


def published(service: dict) -> set[int]:
    ports = set()
    for p in service.get("ports", []):
        if isinstance(p, dict):
            ports.add(int(p["published"]))
            assert p.get("host_ip") == "127.0.0.1", f"{p} is published beyond loopback"
        else:
            assert str(p).startswith("127.0.0.1:"), f"{p} is published beyond loopback"
            ports.add(int(str(p).split(":")[1]))
    return ports


def test_compose_publishes_the_native_ports_on_loopback_only(compose):
    services = compose["services"]
    expected: dict[str, set[int]] = {}
    for port in PORTS:  # the services table: which compose service publishes which port
        if port.compose:
            expected.setdefault(port.compose, set()).add(port.default)
    assert expected, "no port of the services table names a compose service"
    for name, ports in expected.items():
        assert name in services, f"docker-compose.yml lacks {name}"
        assert ports <= published(services[name]), f"{name}: {published(services[name])} != native {ports}"
    for name, service in services.items():
        published(service)  # asserts loopback for every service


def test_backend_settings_match_the_native_stack(compose):
    env = compose["services"]["backend"]["environment"]
    for key in ("DATABASE_URL", "REDIS_URL", "MIXPANEL_API_URL", "PAYMENT_PROVIDER_URL", "SENTRY_SPOTLIGHT_URL",
                "PROMETHEUS_MULTIPROC_DIR", "FAULT_STATE_FILE"):
        assert env.get(key), f"backend lacks {key}"
    assert json.dumps(env).count("capture:9911") == 2


def test_monitoring_services_mount_the_generated_files(compose):
    services = compose["services"]
    for name in ("prometheus", "alertmanager", "grafana", "node-exporter", "cadvisor"):
        assert name in services, f"docker-compose.yml lacks {name}"
    prom_cfg = [a for a in services["prometheus"]["command"] if a.startswith("--config.file=")][0]
    assert (ROOT / "monitoring/prometheus" / Path(prom_cfg.split("=", 1)[1]).name).exists()
    for volume in services["prometheus"]["volumes"] + services["grafana"]["volumes"]:
        source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
        if source.startswith("/"):
            assert Path(source).exists(), f"{source} is mounted but missing"


def test_grafana_has_no_default_password():
    env = {k: v for k, v in os.environ.items() if k != "GRAFANA_ADMIN_PASSWORD"}
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                            capture_output=True, text=True, cwd=ROOT, env=env)
    assert result.returncode != 0 and "GRAFANA_ADMIN_PASSWORD" in result.stderr
