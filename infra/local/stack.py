"""The native stack of the product: the only code that starts its processes. A library and a CLI.

    python infra/local/stack.py up [--profile fast] [--no-frontend] [--no-monitoring] [--free-ports]
    python infra/local/stack.py down      # stop exactly what `up` started, by PID
    python infra/local/stack.py status

    from infra.local.stack import Stack
    with Stack(ports=Ports.free(), profile="fast", data_dir=tmp, with_frontend=False) as stack:
        stack.env["BACKEND_URL"], stack.stop_backend(), stack.start_backend()

`up` resolves PostgreSQL and Redis (the ones named by DATABASE_URL/REDIS_URL, or the machine's
defaults, when they answer; otherwise project-local instances it starts itself), migrates the
database, then starts every service of infra/local/services.py bound to 127.0.0.1, records each
PID (with its start time) under `<data>/pids/`, and polls each one for readiness. `down` stops
exactly the processes recorded, by PID (infra/local/processes.py).

Everything the stack writes lives under one folder (`data_dir`, default `STACK_DATA_DIR` or
`.data/`). The resolved addresses are written to `<data>/stack.env` for tests and tools.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from infra.local import datastores, monitoring_config  # noqa: E402
from infra.local.topology import TOPOLOGIES, HaPorts, HaTopology  # noqa: E402
from infra.local.polling import WaitTimeout, tcp_open, wait_until  # noqa: E402
from infra.local.processes import Process, pid_alive, read_pidfile, stop_pidfile  # noqa: E402
from infra.local.services import (FRONTEND_DIR, ROOT, Ports, Service, alertmanager_service,  # noqa: E402
                                  backend_service, capture_service, frontend_service, node_exporter_service,
                                  postgres_exporter_service, postgres_service, prometheus_service,
                                  redis_exporter_service, redis_service, spotlight_service)
from infra.product import PRODUCT  # noqa: E402
from monitoring import profiles  # noqa: E402
from monitoring.profiles import Profile  # noqa: E402


class StackError(RuntimeError):
    """The stack could not start (the message says why and what to do)."""


def default_data_dir() -> Path:
    return Path(os.environ.get("STACK_DATA_DIR", ROOT / ".data")).resolve()


def read_env_file(path: Path) -> dict[str, str]:
    """A stack.env written by `up`: KEY=value lines."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def log(msg: str) -> None:
    print(f"[stack] {msg}", flush=True)


def git_sha() -> str:
    if os.environ.get("GIT_SHA"):
        return os.environ["GIT_SHA"]
    try:
        return subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Stack:
    """The whole stack (or part of it) on the given ports, profile and data folder.

    ports: default Ports.from_env() (contract ports, moved by *_PORT variables); Ports.free() for tests.
    database_url/redis_url: default DATABASE_URL/REDIS_URL or the machine's; unreachable -> local ones.
    backend_env: extra backend settings (win over the stack's defaults).
    postgres_max_connections: always start a project-local PostgreSQL with this max_connections
    (never the given or the machine's shared server): a server the stack's pools can exhaust.
    """

    def __init__(self, ports: Ports | None = None, profile: str | Profile = "production",
                 data_dir: Path | None = None, *, with_frontend: bool = True, with_monitoring: bool = True,
                 frontend_dir: Path = FRONTEND_DIR, database_url: str | None = None, redis_url: str | None = None,
                 backend_env: dict[str, str] | None = None, log: Callable[[str], None] = log,
                 topology: str = "single", ha_ports: HaPorts | None = None,
                 postgres_max_connections: int | None = None) -> None:
        self.ports = ports or Ports.from_env()
        self.profile = profiles.get(profile)
        self.data_dir = Path(data_dir).resolve() if data_dir else default_data_dir()
        self.with_frontend = with_frontend
        self.with_monitoring = with_monitoring
        self.frontend_dir = Path(frontend_dir)
        self.database_url = database_url or os.environ.get("DATABASE_URL", datastores.DEFAULT_DATABASE_URL)
        self.redis_url = redis_url or os.environ.get("REDIS_URL", datastores.DEFAULT_REDIS_URL)
        self.extra_backend_env = dict(backend_env or {})
        self.postgres_max_connections = postgres_max_connections
        self.log = log
        self.pids = self.data_dir / "pids"
        self.logs = self.data_dir / "logs"
        self.processes: dict[str, Process] = {}  # what this Stack started, in start order
        self.backend_env: dict[str, str] = {}
        self.env: dict[str, str] = {}
        if topology not in TOPOLOGIES:
            raise StackError(f"unknown topology {topology!r} (known: {', '.join(TOPOLOGIES)})")
        self.topology = topology
        # the HA topology's extra ports are always free ones (infra/local/topology.py)
        self.ha = HaTopology(self.ports, ha_ports or HaPorts.free(), self.data_dir, self.profile) \
            if topology == "ha" else None
        self.services: dict[str, Service] = {}  # the definition of each started process (restart)

    # --- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> Stack:
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    def up(self) -> dict[str, str]:
        """Start everything; on failure stop what this call started and raise StackError."""
        try:
            return self._up()
        except BaseException:
            if self.processes:
                self.log("start-up failed; stopping what this run started")
                self.down()
            raise

    def _up(self) -> dict[str, str]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        p = self.ports
        app = [capture_service(p), spotlight_service(p)]
        monitoring = self.exporters(self.database_url, self.redis_url) if self.with_monitoring else []
        self.check_ports_free([*app, *self.backend_services({}), *monitoring,
                               *([frontend_service(p, self.frontend_dir)] if self.with_frontend else [])])
        db_url = self.resolve_postgres()
        redis_url = self.resolve_redis()
        monitoring = self.exporters(db_url, redis_url) if self.with_monitoring else []
        self.backend_env = self.make_backend_env(db_url, redis_url)
        self.log("migrating the database (alembic upgrade head)")
        try:
            datastores.migrate({**os.environ, **self.backend_env})
        except subprocess.CalledProcessError as exc:
            raise StackError(f"alembic upgrade head failed:\n{exc.stderr.decode(errors='replace')[-3000:]}") from None
        services = [*app, *self.backend_services(self.backend_env), *monitoring]
        if self.with_monitoring:
            services += self.monitoring_services()
        if self.with_frontend:
            services.append(frontend_service(p, self.frontend_dir, self.backend_env["TRUSTED_PROXY_SECRET"]))
        started = [(svc, self.start(svc)) for svc in services]
        for svc, proc in started:
            self.wait_ready(svc, proc)
        self.env = self.make_env()
        (self.data_dir / "stack.env").write_text("".join(f"{k}={v}\n" for k, v in self.env.items()))
        return self.env

    def down(self) -> None:
        """Stop what this Stack started, newest first (apps before their dependencies)."""
        for name, proc in reversed(list(self.processes.items())):
            if proc.alive():
                self.log(f"stopping {name} (pid {proc.pid})")
            proc.stop()
        self.processes.clear()

    # --- the topology: which services run the backend and the monitoring -------------------------
    def backend_services(self, env: dict[str, str]) -> list[Service]:
        """single: the backend; ha: every backend instance and the balancer in front of them."""
        if self.ha is None:
            return [backend_service(self.ports, env)]
        return [*self.ha.backends(env), self.ha.balancer()]

    def backend_names(self) -> list[str]:
        """The processes serving the API (not the balancer)."""
        return [s.name for s in self.backend_services({}) if s.name.startswith("backend")]

    def monitoring_services(self) -> list[Service]:
        p = self.ports
        am_config = monitoring_config.render_alertmanager(self.data_dir, p, self.profile)
        if self.ha is not None:
            return self.ha.monitoring(am_config)
        prom_config = monitoring_config.render_prometheus(self.data_dir, p, self.profile)
        return [alertmanager_service(p, am_config, self.data_dir / "alertmanager"),
                prometheus_service(p, prom_config, self.data_dir / "prometheus", self.profile.resend_delay)]

    def exporters(self, database_url: str, redis_url: str) -> list[Service]:
        """The machine and the data stores seen from the server side, in every topology."""
        p = self.ports
        return [node_exporter_service(p), postgres_exporter_service(p, database_url),
                redis_exporter_service(p, redis_url)]

    # --- the backend alone (the harness's backend_down fault) -------------------------------------
    def stop_backend(self) -> None:
        """SIGTERM every backend instance at once (ha: the balancer then has none left)."""
        import threading  # noqa: PLC0415

        stops = [threading.Thread(target=self.stop_process, args=(n,)) for n in self.backend_names()]
        for t in stops:
            t.start()
        for t in stops:
            t.join()

    def start_backend(self) -> None:
        """Start the backend (every instance) again with the very command, environment and pid file `up` used."""
        started = [(svc, self.start(svc)) for svc in self.backend_services(self.backend_env)
                   if svc.name in self.backend_names() and svc.name not in self.processes]
        for svc, proc in started:
            self.wait_ready(svc, proc)

    # --- one process by name (the HA proofs: lose an instance, a replica, a member) ----------------
    def stop_process(self, name: str) -> None:
        proc = self.processes.pop(name, None)
        if proc is not None:
            self.log(f"stopping {name} (pid {proc.pid})")
            proc.stop()

    def kill_process(self, name: str) -> None:
        """SIGKILL its whole process group at once (a machine lost: no drain, no goodbye)."""
        proc = self.processes.pop(name, None)
        if proc is None:
            raise StackError(f"{name} is not running in this stack")
        self.log(f"SIGKILL {name} (pid {proc.pid})")
        proc.kill()

    def restart_process(self, name: str) -> None:
        """Start a stopped or killed process again with the very definition `up` used."""
        svc = self.services[name]
        self.wait_ready(svc, self.start(svc))

    # --- processes ----------------------------------------------------------------------------------
    def start(self, svc: Service) -> Process:
        pidfile = self.pids / f"{svc.name}.pid"
        if pid_alive(pidfile):
            raise StackError(f"{svc.name} already runs (pid {read_pidfile(pidfile)[0]}) with data in "
                             f"{self.data_dir}; stop it first (`make down`)")
        logfile = self.logs / f"{svc.name}.log"
        proc = svc.start(logfile, pidfile)
        self.processes[svc.name] = proc
        self.services[svc.name] = svc
        shown = logfile.relative_to(ROOT) if ROOT in logfile.parents else logfile
        self.log(f"started {svc.name} (pid {proc.pid}), log {shown}")
        return proc

    def wait_ready(self, svc: Service, proc: Process) -> None:
        try:
            svc.wait_ready(proc)
        except WaitTimeout as exc:
            raise StackError(str(exc)) from None
        self.log(f"{svc.name} ready")

    def check_ports_free(self, services: list[Service]) -> None:
        """Refuse to start over something else: a readiness probe would happily talk to it."""
        taken = [f"{svc.name} :{port}" for svc in services for port in svc.ports if tcp_open("127.0.0.1", port)]
        if taken:
            raise StackError("ports already in use: " + ", ".join(taken)
                             + " (another `make up`? run `make down`, or set the *_PORT variables)")

    # --- dependencies -------------------------------------------------------------------------------
    def resolve_postgres(self) -> str:
        url = self.database_url
        if self.postgres_max_connections is None and datastores.reachable(url, 5432):
            self.log(f"PostgreSQL: using {url.rsplit('@', 1)[-1]}")
            datastores.ensure_database(url)
            return url
        small = self.postgres_max_connections
        self.log(f"PostgreSQL: starting a project-local one with max_connections={small}" if small
                 else "PostgreSQL: none reachable, starting a project-local one")
        pgdata = self.data_dir / "pg"
        datastores.init_postgres(pgdata)
        svc = postgres_service(self.ports.local_pg, pgdata, small)
        self.wait_ready(svc, self.start(svc))
        url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.ports.local_pg}/{PRODUCT.slug}"
        wait_until(lambda: datastores.try_ensure_database(url), 15, 0.2, what="local PostgreSQL to accept connections")
        return url

    def resolve_redis(self) -> str:
        if datastores.reachable(self.redis_url, 6379):
            self.log(f"Redis: using {self.redis_url.rsplit('@', 1)[-1]}")
            return self.redis_url
        self.log("Redis: none reachable, starting a project-local one")
        (self.data_dir / "redis").mkdir(parents=True, exist_ok=True)
        svc = redis_service(self.ports.local_redis, self.data_dir / "redis")
        self.wait_ready(svc, self.start(svc))
        return f"redis://127.0.0.1:{self.ports.local_redis}/0"

    # --- environment ------------------------------------------------------------------------------
    def make_backend_env(self, db_url: str, redis_url: str) -> dict[str, str]:
        p, env = self.ports, os.environ
        return {
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "ENVIRONMENT": env.get("ENVIRONMENT", "development"),
            "GIT_SHA": git_sha(),
            "SENTRY_SPOTLIGHT_URL": p.url("spotlight", "/stream"),
            "MIXPANEL_TOKEN": env.get("MIXPANEL_TOKEN", "local-dev-token"),
            "MIXPANEL_API_URL": p.url("capture", "/mixpanel"),
            "PAYMENT_PROVIDER_URL": p.url("capture", "/payments"),
            # The local stack is where faults are rehearsed; production never sets this.
            "FAULT_INJECTION_ENABLED": env.get("FAULT_INJECTION_ENABLED", "true"),
            "FAULT_STATE_FILE": str(self.data_dir / "faults.json"),
            "PROMETHEUS_MULTIPROC_DIR": str(self.data_dir / "metrics-multiproc"),
            "WEB_CONCURRENCY": env.get("WEB_CONCURRENCY", "2"),
            "RATE_LIMIT_AUTH_PER_MINUTE": env.get("RATE_LIMIT_AUTH_PER_MINUTE", "20"),
            # The frontend's proxy is the one trusted hop: a fresh shared secret per `up`, never on disk
            # in the repository; cookie-authenticated writes are accepted from its origin.
            "TRUSTED_PROXY_SECRET": secrets.token_urlsafe(32),
            "CSRF_TRUSTED_ORIGINS": f"{p.url('frontend')},http://localhost:{p.frontend}",
            **self.extra_backend_env,
        }

    def make_env(self) -> dict[str, str]:
        """What stack.env holds: where everything is."""
        p = self.ports
        return {
            **{k: self.backend_env[k] for k in ("DATABASE_URL", "REDIS_URL", "FAULT_STATE_FILE",
                                                 "PROMETHEUS_MULTIPROC_DIR")},
            "BACKEND_URL": p.url("backend"),
            "BACKEND_METRICS_URL": p.url("metrics", "/metrics"),
            "FRONTEND_URL": p.url("frontend"),
            "PROMETHEUS_URL": p.url("prometheus"),
            "ALERTMANAGER_URL": p.url("alertmanager"),
            "SPOTLIGHT_URL": p.url("spotlight"),
            "CAPTURE_URL": p.url("capture"),
            "BACKEND_LOG_FILE": str(self.logs / "backend.log"),
            "ALERT_PROFILE": self.profile.name,
            "TOPOLOGY": self.topology,
            **(self.ha.env() if self.ha is not None else {}),
        }

    def urls(self) -> list[tuple[str, str]]:
        """(label, URL) of what runs, as `make up` prints them."""
        p = self.ports
        rows = [
            ("frontend (the product)", p.url("frontend"), self.with_frontend),
            ("backend API docs", p.url("backend", "/docs"), True),
            ("backend metrics", p.url("metrics", "/metrics"), True),
            ("Spotlight (local Sentry)", p.url("spotlight"), True),
            ("capture server (Mixpanel/Slack/PagerDuty)", p.url("capture"), True),
            ("Prometheus", p.url("prometheus", "/classic/graph"), self.with_monitoring),
            ("Prometheus alerts", p.url("prometheus", "/classic/alerts"), self.with_monitoring),
            ("Alertmanager", p.url("alertmanager"), self.with_monitoring),
            ("node-exporter", p.url("node_exporter", "/metrics"), self.with_monitoring),
            ("postgres-exporter", p.url("postgres_exporter", "/metrics"), self.with_monitoring),
            ("redis-exporter", p.url("redis_exporter", "/metrics"), self.with_monitoring),
        ]
        if self.ha is not None:  # the HA topology's extra processes
            e = self.ha.env()
            rows[1] = ("backend API docs (via the balancer)", p.url("backend", "/docs"), True)
            rows += [(f"backend instance {n}", u, True) for n, u in zip("ab", e["BACKEND_INSTANCE_URLS"].split(","))]
            rows += [("balancer metrics (HAProxy)", e["BALANCER_METRICS_URL"], True)]
            rows += [(f"Prometheus replica {n}", u, self.with_monitoring) for n, u in zip("ab", e["PROMETHEUS_URLS"].split(","))]
            rows += [(f"Alertmanager member {n}", u, self.with_monitoring) for n, u in zip("ab", e["ALERTMANAGER_URLS"].split(","))]
        return [(label, url) for label, url, shown in rows if shown]

    def print_urls(self) -> None:
        print(f"\n{PRODUCT.name} is up:")
        for label, url in self.urls():
            print(f"  {label:45s} {url}")
        print(f"  logs: {self.logs}   stop: make down\n", flush=True)


# --- the CLI's down and status: by the pid files of a data folder ------------------------------

def down(data_dir: Path | None = None) -> int:
    """Stop every process recorded under <data>/pids, newest first, by PID."""
    pids = (data_dir or default_data_dir()) / "pids"
    files = sorted(pids.glob("*.pid"), key=lambda f: f.stat().st_mtime, reverse=True) if pids.exists() else []
    if not files:
        log("nothing to stop")
    for pidfile in files:
        recorded = read_pidfile(pidfile)
        if not pid_alive(pidfile):
            log(f"{pidfile.stem}: not running")
            pidfile.unlink(missing_ok=True)
            continue
        log(f"stopping {pidfile.stem} (pid {recorded[0] if recorded else '?'})")
        stop_pidfile(pidfile)
    return 0


def status(data_dir: Path | None = None) -> int:
    pids = (data_dir or default_data_dir()) / "pids"
    for pidfile in sorted(pids.glob("*.pid")) if pids.exists() else []:
        state = "running" if pid_alive(pidfile) else "dead"
        print(f"{pidfile.stem:15s} {pidfile.read_text().split()[0]:>8s} {state}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"Run the {PRODUCT.name} stack as native processes.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    up_p = sub.add_parser("up")
    up_p.add_argument("--profile", choices=sorted(profiles.PROFILES),
                      default=os.environ.get("ALERT_PROFILE", "production"),
                      help="alert rule profile loaded into Prometheus (fast: scaled-down windows, 1s scrapes)")
    up_p.add_argument("--topology", choices=TOPOLOGIES, default=os.environ.get("TOPOLOGY") or "single",
                      help="single: one of everything; ha: 2 backends behind HAProxy, 2 Prometheus, "
                           "an Alertmanager cluster (infra/local/topology.py)")
    up_p.add_argument("--no-frontend", action="store_true")
    up_p.add_argument("--no-monitoring", action="store_true")
    up_p.add_argument("--free-ports", action="store_true",
                      help="pick free ports instead of the contract ones (test stacks; stack.env says where)")
    up_p.add_argument("--frontend-dir", type=Path, default=FRONTEND_DIR,
                      help="serve the Next.js build of this folder (default frontend/)")
    sub.add_parser("down")
    sub.add_parser("status")
    args = parser.parse_args(argv)
    if args.cmd == "down":
        return down()
    if args.cmd == "status":
        return status()
    stack = Stack(Ports.free() if args.free_ports else Ports.from_env(), args.profile,
                  with_frontend=not args.no_frontend, with_monitoring=not args.no_monitoring,
                  frontend_dir=args.frontend_dir, topology=args.topology)
    try:
        stack.up()
    except StackError as exc:
        print(f"[stack] {exc}", file=sys.stderr)
        return 1
    stack.print_urls()
    return 0


if __name__ == "__main__":
    sys.exit(main())
