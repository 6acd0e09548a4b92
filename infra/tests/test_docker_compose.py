"""docker-compose.yml parses (Debian's docker-compose) and stays consistent with the native stack."""

import json
import re
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


def test_exporters_and_exemplar_storage(compose):
    from monitoring.prometheus_config import DOCKER_TARGETS

    services = compose["services"]
    images = {"postgres-exporter": "quay.io/prometheuscommunity/postgres-exporter",
              "redis-exporter": "oliver006/redis_exporter"}
    for name, image in images.items():
        assert services[name]["image"].split(":")[0] == image
        host = DOCKER_TARGETS[name].split(":")[0]
        assert host == name, f"Prometheus scrapes {DOCKER_TARGETS[name]}, not the compose service {name}"
    assert "postgres:5432" in services["postgres-exporter"]["environment"]["DATA_SOURCE_NAME"]
    assert services["redis-exporter"]["environment"]["REDIS_ADDR"] == "redis://redis:6379"
    from infra.local.services import PROMETHEUS_FEATURES  # the native stack's feature flags

    assert "exemplar-storage" in PROMETHEUS_FEATURES
    for feature in PROMETHEUS_FEATURES:
        assert f"--enable-feature={feature}" in services["prometheus"]["command"]


def test_every_compose_scrape_target_is_a_compose_service(compose):
    from monitoring.prometheus_config import DOCKER_TARGETS

    for job, target in DOCKER_TARGETS.items():
        host = target.split(":")[0]
        assert host == "localhost" or host in compose["services"], f"{job} scrapes {target}: no such service"


# Grafana's provisioning expands $VAR and ${VAR} only: a shell default such as ${VAR:-x} or
# ${VAR-x} reaches Grafana literally (a datasource URL of "${PROMETHEUS_URL:-http://...}").
SHELL_EXPANSION = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-=?+])")


def shell_expansions(text: str) -> list[str]:
    return [m.group(0) for m in SHELL_EXPANSION.finditer(text)]


def test_shell_expansion_scan_catches_defaults():
    assert shell_expansions("url: ${PROMETHEUS_URL:-http://prometheus:9090}") == ["${PROMETHEUS_URL:-"]
    assert shell_expansions("url: ${PROMETHEUS_URL-http://x}\npw: ${A:?}") == ["${PROMETHEUS_URL-", "${A:?"]
    assert shell_expansions("url: ${PROMETHEUS_URL}\nuser: $USER") == []


def test_grafana_provisioning_uses_only_expansions_grafana_knows(compose):
    provisioning = ROOT / "monitoring/grafana/provisioning"
    files = sorted(p for p in provisioning.rglob("*") if p.is_file())
    assert files
    env = compose["services"]["grafana"].get("environment", {})
    for path in files:
        text = path.read_text()
        assert not shell_expansions(text), f"{path.relative_to(ROOT)}: {shell_expansions(text)}"
        values = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        for var in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", values):
            name = var[0] or var[1]
            assert name in env, f"{path.relative_to(ROOT)} reads ${name}, which the grafana service does not set"
