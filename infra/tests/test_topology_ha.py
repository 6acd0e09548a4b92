"""The HA topology (infra/local/topology.py) for real: two gunicorn backends behind HAProxy, two
Prometheus replicas, a two-member Alertmanager cluster, all on free loopback ports.

One stack for the module (it takes ~30 s to start): the balancer spreads requests over both
instances, each Prometheus scrapes each instance and the balancer, both Alertmanagers are one
cluster, and an instance that receives SIGTERM is drained without a failed request."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import httpx
import pytest
import yaml

from infra.local import haproxy_config
from infra.local.polling import wait_until
from infra.local.services import Ports
from infra.local.stack import Stack
from infra.local.topology import INSTANCES, HaPorts, HaTopology
from infra.testkit import Prometheus
from infra.product import PRODUCT
from monitoring.profiles import FAST

DATABASE_URL = os.environ.get("TEST_HA_DATABASE_URL", f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PRODUCT.slug}_ha_test")
REDIS_URL = os.environ.get("TEST_HA_REDIS_URL", "redis://127.0.0.1:6379/11")


def test_the_balancer_config_is_valid_haproxy(tmp_path):
    cfg = haproxy_config.write(tmp_path / "haproxy.cfg", haproxy_config.Balancer(18000, 18404, (("backend-a", 18101),
                                                                                              ("backend-b", 18102))))
    out = subprocess.run(["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    text = cfg.read_text()
    assert "http-check send meth GET uri /ready" in text and "use-service prometheus-exporter" in text
    assert "disable-l7-retry unless METH_GET" in text  # never resend a POST that reached an instance


def test_each_replica_scrapes_every_instance_and_sends_to_every_member(tmp_path):
    ports, extra = Ports.free(), HaPorts.free()
    ha = HaTopology(ports, extra, tmp_path, FAST)
    configs = {}
    for name in INSTANCES:
        svc = ha.prometheus(name)
        configs[name] = yaml.safe_load(Path(next(a.split("=", 1)[1] for a in svc.argv
                                                 if a.startswith("--config.file="))).read_text())
        out = subprocess.run(["promtool", "check", "config", "--syntax-only",
                              str(tmp_path / "config" / f"prometheus-{name}.yml")], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
    for name, config in configs.items():
        targets = {c["job_name"]: c["static_configs"][0]["targets"] for c in config["scrape_configs"]}
        assert targets["backend"] == [f"127.0.0.1:{extra.metrics_a}", f"127.0.0.1:{extra.metrics_b}"]
        assert targets["haproxy"] == [f"127.0.0.1:{extra.balancer_metrics}"]
        assert config["global"]["external_labels"]["replica"] == name
        assert config["alerting"]["alert_relabel_configs"] == [{"action": "labeldrop", "regex": "replica"}]
        assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
            ports.address("alertmanager"), f"127.0.0.1:{extra.alertmanager_b}"]
    # the same rules in both: only the replica label differs
    strip = [{**c, "global": {**c["global"], "external_labels": {}}} for c in configs.values()]
    assert strip[0]["rule_files"] == strip[1]["rule_files"]


@pytest.fixture(scope="module")
def ha_stack(tmp_path_factory):
    data = tmp_path_factory.mktemp("ha-stack")
    stack = Stack(Ports.free(), FAST, data, with_frontend=False, database_url=DATABASE_URL, redis_url=REDIS_URL,
                  topology="ha", log=lambda m: None)
    stack.up()
    wait_until(lambda: stack.ha.in_rotation() == {"backend-a", "backend-b"}, 60, 0.3,
               what="the balancer to put both instances in rotation")
    try:
        yield stack
    finally:
        stack.down()


def _requests_total(metrics_url: str, route: str = "/health") -> float:
    """GET `route` requests an instance counted (the balancer's own checks are GET /ready)."""
    text = httpx.get(metrics_url, timeout=5).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("http_requests_total{") and f'route="{route}"' in line and 'method="GET"' in line)


def test_the_balancer_spreads_requests_over_both_instances(ha_stack):
    env = ha_stack.env
    metrics = [f"http://{a}/metrics" for a in env["BACKEND_INSTANCE_METRICS"].split(",")]
    before = [_requests_total(u) for u in metrics]
    with httpx.Client(base_url=env["BACKEND_URL"], timeout=10) as http:
        for _ in range(40):
            r = http.get("/health")
            assert r.status_code == 200, r.text
    wait_until(lambda: all(_requests_total(u) - b >= 10 for u, b in zip(metrics, before)), 15, 0.3,
               what="both instances to have served requests")


def test_both_replicas_scrape_each_instance_and_the_balancer(ha_stack):
    for url in ha_stack.env["PROMETHEUS_URLS"].split(","):
        prom = Prometheus(url)
        wait_until(lambda p=prom: len(p.query('up{job="backend"} == 1')) == 2, 60, 0.5,
                   what=f"{url} to scrape both backend instances")
        wait_until(lambda p=prom: p.query('up{job="haproxy"} == 1'), 60, 0.5, what=f"{url} to scrape the balancer")
        wait_until(lambda p=prom: len(p.query('haproxy_server_status{proxy="instances",state="UP"} == 1')) == 2, 60, 0.5,
                   what=f"{url}: the balancer reports both instances up")
        instances = {s["metric"]["instance"] for s in prom.query('up{job="backend"}')}
        assert instances == set(ha_stack.env["BACKEND_INSTANCE_METRICS"].split(","))


def test_the_alertmanagers_are_one_cluster(ha_stack):
    def peers(url: str) -> int:
        status = httpx.get(f"{url}/api/v2/status", timeout=5).json()["cluster"]
        return len(status.get("peers") or []) if status.get("status") == "ready" else 0
    for url in ha_stack.env["ALERTMANAGER_URLS"].split(","):
        wait_until(lambda u=url: peers(u) == 2, 60, 0.5, what=f"{url} to see both cluster members")


def test_an_instance_getting_sigterm_is_drained_without_a_failed_request(ha_stack):
    """GETs keep flowing through the balancer while backend-a stops gracefully and comes back.

    The traffic is an unauthenticated GET /api/me (401 from the app itself, no dependency): /health
    answers 503 on a draining instance by design (docs/contracts.md), so it would count the drain."""
    env = ha_stack.env
    failures: list[str] = []
    served = [0]
    stop = threading.Event()

    def traffic() -> None:
        with httpx.Client(base_url=env["BACKEND_URL"], timeout=15) as http:
            while not stop.is_set():
                try:
                    r = http.get("/api/me")
                    if r.status_code != 401:
                        failures.append(f"HTTP {r.status_code}")
                    served[0] += 1
                except httpx.HTTPError as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
    t = threading.Thread(target=traffic, daemon=True)
    t.start()
    try:
        wait_until(lambda: served[0] >= 20, 30, 0.1, what="traffic through the balancer")
        ha_stack.stop_process("backend-a")
        at_stop = served[0]
        wait_until(lambda: served[0] >= at_stop + 50, 60, 0.1, what="traffic served by backend-b alone")
        # HAProxy marks it down after two failed /ready checks (1 s apart): poll, the 50 requests
        # above can be served faster than that
        wait_until(lambda: "backend-a" not in ha_stack.ha.in_rotation(), 30, 0.3,
                   what="backend-a out of rotation")
        ha_stack.restart_process("backend-a")
        wait_until(lambda: ha_stack.ha.in_rotation() == {"backend-a", "backend-b"}, 30, 0.3,
                   what="backend-a back in rotation")
    finally:
        stop.set()
        t.join(20)
    assert not failures, failures[:5]
