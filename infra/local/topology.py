"""The stack's topologies: `single` (one of everything) and `ha` (what a team runs in production,
on this machine): two backend instances behind HAProxy, two identical Prometheus replicas, and
an Alertmanager cluster of two members gossiping on loopback ports.

    Stack(topology="ha")          # infra/local/stack.py
    make up TOPOLOGY=ha

`ha`, service by service (every one defined from the single topology's definition in
infra/local/services.py, with its ports moved; README "Running beyond one machine"):
- backend-a, backend-b: gunicorn each (its own workers, its own PROMETHEUS_MULTIPROC_DIR, API and
  metrics ports from `HaPorts`); both share the database, Redis and the fault state file.
- balancer: HAProxy (infra/local/haproxy_config.py) on the backend's contract port, so the
  frontend, Locust and every client talk to it exactly as they talk to the single backend.
- prometheus-a (the contract port), prometheus-b: the same rules and scrape targets (each backend
  instance, `instance` label, plus the balancer), external label `replica` a/b, dropped from the
  alerts they send to *both* Alertmanagers.
- alertmanager-a (the contract port), alertmanager-b: one cluster (--cluster.listen-address /
  --cluster.peer on loopback); each keeps silences and its notification log in its own data
  folder. The member at cluster position n waits n x --cluster.peer-timeout before sending, and
  skips what the notification log (gossiped) says was sent: one notification per group.
Each Prometheus replica scrapes itself and the Alertmanager of its own side, so losing one
replica (or one member) is not a ServiceDown page of the survivor.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from infra.local import haproxy_config
from infra.local.processes import free_ports
from infra.local.services import (HOST, Ports, Service, alertmanager_service, backend_service,
                                  prometheus_service)
from monitoring import native
from monitoring.profiles import Profile

TOPOLOGIES = ("single", "ha")
INSTANCES = ("a", "b")  # backend instances, Prometheus replicas and Alertmanager members alike


@dataclass(frozen=True)
class HaPorts:
    """The ports the HA topology needs beyond the single one's (Ports): always free ones."""

    backend_a: int
    metrics_a: int
    backend_b: int
    metrics_b: int
    balancer_metrics: int
    prometheus_b: int
    alertmanager_b: int
    cluster_a: int  # Alertmanager gossip
    cluster_b: int

    @classmethod
    def free(cls) -> HaPorts:
        names = [f.name for f in fields(cls)]
        return cls(**dict(zip(names, free_ports(len(names)), strict=True)))

    def values(self) -> list[int]:
        return [getattr(self, f.name) for f in fields(self)]


def moved(ports: Ports, **changes: int) -> Ports:
    """A copy of `ports` with some moved (the single topology's definitions on other ports)."""
    return Ports(**{**dict(ports.items()), **changes})


class HaTopology:
    def __init__(self, ports: Ports, extra: HaPorts, data_dir: Path, profile: Profile) -> None:
        self.ports = ports
        self.extra = extra
        self.data_dir = data_dir
        self.profile = profile

    # --- backends and the balancer ---------------------------------------------------------------
    def instance_ports(self, name: str) -> Ports:
        return moved(self.ports, backend=getattr(self.extra, f"backend_{name}"),
                     metrics=getattr(self.extra, f"metrics_{name}"))

    def backend(self, name: str, env: dict[str, str]) -> Service:
        svc = backend_service(self.instance_ports(name), {
            **env, "PROMETHEUS_MULTIPROC_DIR": str(self.data_dir / f"metrics-multiproc-{name}")})
        svc.name = f"backend-{name}"
        return svc

    def backends(self, env: dict[str, str]) -> list[Service]:
        return [self.backend(n, env) for n in INSTANCES]

    def balancer_config(self) -> haproxy_config.Balancer:
        return haproxy_config.Balancer(
            self.ports.backend, self.extra.balancer_metrics,
            tuple((f"backend-{n}", getattr(self.extra, f"backend_{n}")) for n in INSTANCES))

    def balancer(self) -> Service:
        cfg = haproxy_config.write(self.data_dir / "config" / "haproxy.cfg", self.balancer_config())
        # -db: stay in the foreground (the stack supervises it by PID); SIGTERM stops it.
        return Service("balancer", ["haproxy", "-db", "-f", str(cfg)],
                       (self.ports.backend, self.extra.balancer_metrics),
                       (f"http://{HOST}:{self.extra.balancer_metrics}/ready",), ready_tcp=self.ports.backend,
                       timeout=15)

    # --- monitoring ------------------------------------------------------------------------------
    def prometheus_port(self, name: str) -> int:
        return self.ports.prometheus if name == "a" else self.extra.prometheus_b

    def alertmanager_port(self, name: str) -> int:
        return self.ports.alertmanager if name == "a" else self.extra.alertmanager_b

    def scrape_targets(self, replica: str) -> dict[str, str | list[str]]:
        return {**self.ports.scrape_targets(),
                "backend": [f"{HOST}:{self.extra.metrics_a}", f"{HOST}:{self.extra.metrics_b}"],
                "prometheus": f"{HOST}:{self.prometheus_port(replica)}",
                "alertmanager": f"{HOST}:{self.alertmanager_port(replica)}",
                "haproxy": f"{HOST}:{self.extra.balancer_metrics}"}

    def peer_timeout(self) -> str:
        """How long the member at position 1 waits for position 0's notification to be gossiped
        (Alertmanager's default 15 s; 5 s in the fast profile, still ample on loopback)."""
        return "15s" if self.profile.scale == 1 else "5s"

    def alertmanager(self, name: str, config: Path) -> Service:
        own, other = (self.extra.cluster_a, self.extra.cluster_b) if name == "a" else (
            self.extra.cluster_b, self.extra.cluster_a)
        svc = alertmanager_service(moved(self.ports, alertmanager=self.alertmanager_port(name)), config,
                                   self.data_dir / f"alertmanager-{name}")
        svc.argv = [a for a in svc.argv if not a.startswith("--cluster.")] + [
            f"--cluster.listen-address={HOST}:{own}", f"--cluster.advertise-address={HOST}:{own}",
            f"--cluster.peer={HOST}:{other}", f"--cluster.peer-timeout={self.peer_timeout()}"]
        svc.name = f"alertmanager-{name}"
        svc.ports = (*svc.ports, own)
        return svc

    def prometheus(self, name: str) -> Service:
        config = native.write_prometheus_config(
            self.data_dir / "config" / f"prometheus-{name}.yml", self.profile, targets=self.scrape_targets(name),
            alertmanager=[f"{HOST}:{self.alertmanager_port(n)}" for n in INSTANCES], replica=name)
        svc = prometheus_service(moved(self.ports, prometheus=self.prometheus_port(name)), config,
                                 self.data_dir / f"prometheus-{name}", self.profile.resend_delay)
        # Restore a rule's `for` progress after a restart for every rule whose `for` is at least
        # the production 1 m (the default 10 m restores none of ours); see loadtests/README.md.
        svc.argv.append(f"--rules.alert.for-grace-period={self.profile.d('1m')}")
        svc.name = f"prometheus-{name}"
        return svc

    def monitoring(self, alertmanager_config: Path) -> list[Service]:
        return [*(self.alertmanager(n, alertmanager_config) for n in INSTANCES),
                *(self.prometheus(n) for n in INSTANCES)]

    def in_rotation(self) -> set[str]:
        """The instances HAProxy currently sends requests to (its exporter's state="UP" series)."""
        import httpx  # noqa: PLC0415 - only callers that poll the balancer need it

        text = httpx.get(f"http://{HOST}:{self.extra.balancer_metrics}/metrics", timeout=5).text
        return {line.split('server="', 1)[1].split('"', 1)[0] for line in text.splitlines()
                if line.startswith('haproxy_server_status{proxy="instances"') and 'state="UP"' in line
                and line.rstrip().endswith(" 1")}

    # --- where everything is (stack.env) ------------------------------------------------------------
    def env(self) -> dict[str, str]:
        return {
            "TOPOLOGY": "ha",
            "BACKEND_INSTANCE_URLS": ",".join(self.instance_ports(n).url("backend") for n in INSTANCES),
            "BACKEND_INSTANCE_METRICS": ",".join(f"{HOST}:{getattr(self.extra, f'metrics_{n}')}" for n in INSTANCES),
            "BACKEND_METRICS_URL": f"http://{HOST}:{self.extra.metrics_a}/metrics",
            "BALANCER_METRICS_URL": f"http://{HOST}:{self.extra.balancer_metrics}/metrics",
            "PROMETHEUS_URLS": ",".join(f"http://{HOST}:{self.prometheus_port(n)}" for n in INSTANCES),
            "ALERTMANAGER_URLS": ",".join(f"http://{HOST}:{self.alertmanager_port(n)}" for n in INSTANCES),
            "BACKEND_LOG_FILE": str(self.data_dir / "logs" / "backend-a.log"),
        }
