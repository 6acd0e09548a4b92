"""One definition of every service of the native stack: its port(s), command, environment and
readiness probe.

`PORTS` is the port table: the contract port (docs/contracts.md), the environment variable that
moves it, the docker-compose service that publishes it and the Prometheus job that scrapes it.
The printed URLs, Prometheus' scrape targets and the test stack's ports come from here;
infra/tests checks docs/contracts.md, docker-compose.yml and monitoring/prometheus_config.py
against it.

Each `*_service()` function returns a `Service`: what to run and how to know it is ready. The stack
(infra/local/stack.py) starts them; tests that need a single one start it the same way
(infra/testkit.start_service).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from infra.local.polling import WaitTimeout, http_ok, tcp_open, wait_until
from infra.local.processes import Process, free_ports
from infra.product import PRODUCT

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
BACKEND_DIR = ROOT / "backend"
FRONTEND_DIR = ROOT / "frontend"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Port:
    key: str  # attribute of Ports
    env: str  # environment variable that moves it
    contract: int  # the contract port (docs/contracts.md, docker-compose.yml)
    compose: str | None = None  # docker-compose service publishing it on the same port
    scrape_job: str | None = None  # Prometheus job scraping it

    @property
    def default(self) -> int:
        """The contract port moved by the product's port block (product.toml port_offset)."""
        return PRODUCT.port(self.contract)


PORTS: tuple[Port, ...] = (
    Port("backend", "BACKEND_PORT", 8000, compose="backend"),
    Port("metrics", "BACKEND_METRICS_PORT", 8001, compose="backend", scrape_job="backend"),
    Port("frontend", "FRONTEND_PORT", 3000, compose="frontend", scrape_job="nextjs"),
    Port("prometheus", "PROMETHEUS_PORT", 9090, compose="prometheus", scrape_job="prometheus"),
    Port("alertmanager", "ALERTMANAGER_PORT", 9093, compose="alertmanager", scrape_job="alertmanager"),
    Port("node_exporter", "NODE_EXPORTER_PORT", 9100, scrape_job="node-exporter"),
    # PostgreSQL and Redis seen from the server side (connections vs max_connections, memory, evictions).
    Port("postgres_exporter", "POSTGRES_EXPORTER_PORT", 9187, scrape_job="postgres-exporter"),
    Port("redis_exporter", "REDIS_EXPORTER_PORT", 9121, scrape_job="redis-exporter"),
    Port("spotlight", "SPOTLIGHT_PORT", 8969, compose="spotlight"),
    Port("capture", "CAPTURE_PORT", 9911, compose="capture"),
    Port("local_pg", "LOCAL_PG_PORT", 55432),
    Port("local_redis", "LOCAL_REDIS_PORT", 56379),
)


class Ports:
    """The stack's ports by key (`ports.backend`, `ports.metrics`, ...), one per row of PORTS."""

    backend: int
    metrics: int
    frontend: int
    prometheus: int
    alertmanager: int
    node_exporter: int
    postgres_exporter: int
    redis_exporter: int
    spotlight: int
    capture: int
    local_pg: int
    local_redis: int

    def __init__(self, **values: int) -> None:
        unknown = set(values) - {p.key for p in PORTS}
        if unknown:
            raise TypeError(f"unknown ports: {sorted(unknown)}")
        for p in PORTS:
            setattr(self, p.key, int(values.get(p.key, p.default)))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Ports:
        """The contract ports, each moved by its variable (BACKEND_PORT=...) when set."""
        environ = os.environ if environ is None else environ
        return cls(**{p.key: int(environ[p.env]) for p in PORTS if environ.get(p.env)})

    @classmethod
    def contract(cls) -> Ports:
        """The contract ports without the product's offset (containers: docker-compose, Kubernetes)."""
        return cls(**{p.key: p.contract for p in PORTS})

    @classmethod
    def free(cls) -> Ports:
        """Free loopback ports for every service (tests and the harness: never collide with anyone)."""
        return cls(**dict(zip((p.key for p in PORTS), free_ports(len(PORTS)), strict=True)))

    def items(self) -> list[tuple[str, int]]:
        return [(p.key, getattr(self, p.key)) for p in PORTS]

    def url(self, key: str, path: str = "") -> str:
        return f"http://{HOST}:{getattr(self, key)}{path}"

    def address(self, key: str) -> str:
        return f"{HOST}:{getattr(self, key)}"

    def scrape_targets(self) -> dict[str, str]:
        """Prometheus job -> host:port, for the jobs the native stack runs."""
        return {p.scrape_job: self.address(p.key) for p in PORTS if p.scrape_job}

    def __repr__(self) -> str:
        return "Ports(" + ", ".join(f"{k}={v}" for k, v in self.items()) + ")"


@dataclass
class Service:
    """One process of the stack: what to run, where, and how to know it serves."""

    name: str  # its pid and log file name
    argv: list[str]
    ports: tuple[int, ...]  # what it listens on (checked free before start)
    ready_urls: tuple[str, ...] = ()  # each must answer 2xx
    ready_tcp: int | None = None  # or: this port accepts connections
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    timeout: float = 30.0  # seconds to become ready

    def ready(self) -> bool:
        if self.ready_tcp is not None and not tcp_open(HOST, self.ready_tcp):
            return False
        return all(http_ok(u) for u in self.ready_urls)

    def start(self, log: Path, pidfile: Path | None = None) -> Process:
        """Start it (own session, output to `log`, PID and start time in `pidfile`); not yet ready."""
        return Process.start(self.name, self.argv, log=log, env=self.env, cwd=self.cwd, pidfile=pidfile)

    def wait_ready(self, proc: Process) -> None:
        """Poll the readiness probe; WaitTimeout (with the log's tail) when it dies or is too slow."""
        try:
            wait_until(self.ready, self.timeout, 0.2, what=f"{self.name} to be ready", give_up=proc.exited)
        except WaitTimeout as exc:
            raise WaitTimeout(f"{exc}\n{proc.tail()}") from None

    def run(self, log: Path, pidfile: Path | None = None) -> Process:
        """start() and wait_ready(); a process that never got ready is stopped again."""
        proc = self.start(log, pidfile)
        try:
            self.wait_ready(proc)
        except BaseException:
            proc.stop()
            raise
        return proc


# --- the services ------------------------------------------------------------------------------

def capture_service(ports: Ports) -> Service:
    """Mixpanel, Slack, PagerDuty and payment-provider stand-in (infra/local/capture_server.py)."""
    return Service("capture", [str(VENV_BIN / "python"), str(ROOT / "infra/local/capture_server.py"),
                               "--port", str(ports.capture)],
                   (ports.capture,), (ports.url("capture", "/health"),), timeout=15)


def spotlight_service(ports: Ports) -> Service:
    """Spotlight, the local Sentry (infra/spotlight/run.sh)."""
    return Service("spotlight", [str(ROOT / "infra/spotlight/run.sh"), str(ports.spotlight)],
                   (ports.spotlight,), (ports.url("spotlight", "/health"),), timeout=30)


def backend_service(ports: Ports, env: dict[str, str]) -> Service:
    """gunicorn (backend/gunicorn_conf.py): uvicorn workers on :backend, /metrics on :metrics."""
    return Service("backend", [str(VENV_BIN / "gunicorn"), "-c", "gunicorn_conf.py"],
                   (ports.backend, ports.metrics),
                   (ports.url("backend", "/ready"), ports.url("metrics", "/metrics")),
                   env={**env, "GUNICORN_BIND": ports.address("backend"), "METRICS_PORT": str(ports.metrics)},
                   cwd=BACKEND_DIR, timeout=60)


def frontend_service(ports: Ports, frontend_dir: Path = FRONTEND_DIR, proxy_secret: str = "") -> Service:
    """Next.js `next start` of the build in `frontend_dir`/.next.

    `proxy_secret` is the backend's TRUSTED_PROXY_SECRET: with it the frontend's proxy is the one
    hop whose X-Forwarded-For the backend believes (SECURITY.md)."""
    env = {"PORT": str(ports.frontend), "HOSTNAME": HOST, "NEXT_TELEMETRY_DISABLED": "1",
           "BACKEND_URL": ports.url("backend"), "SENTRY_SPOTLIGHT_URL": ports.url("spotlight", "/stream"),
           "TRUSTED_PROXY_SECRET": proxy_secret}
    return Service("frontend", ["npx", "--no-install", "next", "start", "-H", HOST, "-p", str(ports.frontend)],
                   (ports.frontend,), (ports.url("frontend", "/"),), env=env, cwd=frontend_dir, timeout=60)


def node_exporter_service(ports: Ports) -> Service:
    return Service("node-exporter", ["prometheus-node-exporter", "--no-collector.systemd",
                                     f"--web.listen-address={ports.address('node_exporter')}"],
                   (ports.node_exporter,), (ports.url("node_exporter", "/metrics"),), timeout=15)


def alertmanager_service(ports: Ports, config: Path, storage: Path) -> Service:
    # cwd=/ : the rendered config's secret files must not depend on the working directory.
    return Service("alertmanager", ["prometheus-alertmanager", f"--config.file={config}",
                                    f"--storage.path={storage}",
                                    f"--web.listen-address={ports.address('alertmanager')}",
                                    f"--web.external-url={ports.url('alertmanager')}",
                                    "--cluster.listen-address="],
                   (ports.alertmanager,), (ports.url("alertmanager", "/-/ready"),), cwd=Path("/"), timeout=20)


def postgres_exporter_service(ports: Ports, database_url: str) -> Service:
    """prometheus-postgres-exporter (Debian) for the stack's PostgreSQL server: pg_stat_activity_count
    against pg_settings_max_connections (PostgresConnectionsNearLimit). The DSN, which may carry a
    password, goes in the environment (DATA_SOURCE_NAME), never on the command line."""
    dsn = urlsplit(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    if "sslmode=" not in dsn.query:  # loopback: libpq's default `prefer` only adds a round trip
        dsn = dsn._replace(query="&".join(filter(None, [dsn.query, "sslmode=disable"])))
    dsn = urlunsplit(dsn)
    return Service("postgres-exporter", ["prometheus-postgres-exporter",
                                         f"--web.listen-address={ports.address('postgres_exporter')}"],
                   (ports.postgres_exporter,), (ports.url("postgres_exporter", "/metrics"),),
                   env={"DATA_SOURCE_NAME": dsn}, timeout=15)


def redis_exporter_service(ports: Ports, redis_url: str) -> Service:
    """prometheus-redis-exporter (Debian) for the stack's Redis server: memory against maxmemory,
    evictions, connected clients (RedisMemoryNearLimit, RedisEvictingKeys). The address (it may
    carry a password) goes in the environment (REDIS_ADDR), never on the command line."""
    parts = urlsplit(redis_url)
    addr = urlunsplit(parts._replace(path="", query="", fragment=""))  # the server, not one DB
    return Service("redis-exporter", ["prometheus-redis-exporter",
                                      f"-web.listen-address={ports.address('redis_exporter')}"],
                   (ports.redis_exporter,), (ports.url("redis_exporter", "/metrics"),),
                   env={"REDIS_ADDR": addr}, timeout=15)


# Prometheus feature flags, here and in docker-compose.yml and the Kubernetes Prometheus
# (infra/k8s/monitoring.py `enableFeatures`): exemplar storage keeps the trace-ID exemplars of the
# latency histogram (without it Prometheus drops them at scrape time).
PROMETHEUS_FEATURES: tuple[str, ...] = ("exemplar-storage",)


def prometheus_service(ports: Ports, config: Path, storage: Path, resend_delay: str) -> Service:
    return Service("prometheus", ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={storage}",
                                  f"--web.listen-address={ports.address('prometheus')}",
                                  "--storage.tsdb.retention.time=30d", "--web.enable-lifecycle",
                                  f"--web.external-url={ports.url('prometheus')}",
                                  f"--rules.alert.resend-delay={resend_delay}",
                                  *(f"--enable-feature={f}" for f in PROMETHEUS_FEATURES)],
                   (ports.prometheus,), (ports.url("prometheus", "/-/ready"),), timeout=30)


def postgres_service(port: int, pgdata: Path, max_connections: int | None = None) -> Service:
    """A project-local PostgreSQL (its cluster initialised by datastores.init_postgres);
    max_connections: a small server the stack's own pools can exhaust (the HA connection proof)."""
    argv = [str(PG_BIN / "postgres"), "-D", str(pgdata), "-h", HOST, "-p", str(port), "-k", str(pgdata),
            *(["-c", f"max_connections={max_connections}"] if max_connections else [])]
    return Service("postgres", as_postgres_user(argv), (port,), ready_tcp=port, timeout=30)


def redis_service(port: int, folder: Path, name: str = "redis") -> Service:
    return Service(name, [shutil.which("redis-server") or "redis-server", "--bind", HOST, "--port", str(port),
                          "--save", "", "--appendonly", "no", "--dir", str(folder)],
                   (port,), ready_tcp=port, timeout=15)


def as_postgres_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv
