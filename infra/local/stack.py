"""The native Northstar stack: `up`, `down` and `status` without Docker.

`up` resolves PostgreSQL and Redis (the ones named by DATABASE_URL/REDIS_URL, or the machine's
defaults, when they answer; otherwise project-local instances it starts itself), migrates the
database, then starts every process bound to 127.0.0.1, records each PID under `.data/pids/`,
and polls each one for readiness (never sleeps and hopes). `down` stops exactly the processes
that `up` recorded, by PID, after checking that the PID still runs the command we started.

Everything the stack writes lives under one ignored folder (`NORTHSTAR_DATA_DIR`, default
`.data/`). The resolved addresses are written to `<data>/stack.env` for tests and tools.

Python's subprocess module is the process supervisor here on purpose: honcho/supervisord would
add a daemon to install and learn, and we need only start, readiness, and stop by PID.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def env_port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass
class Ports:
    backend: int = field(default_factory=lambda: env_port("BACKEND_PORT", 8000))
    metrics: int = field(default_factory=lambda: env_port("BACKEND_METRICS_PORT", 8001))
    frontend: int = field(default_factory=lambda: env_port("FRONTEND_PORT", 3000))
    prometheus: int = field(default_factory=lambda: env_port("PROMETHEUS_PORT", 9090))
    alertmanager: int = field(default_factory=lambda: env_port("ALERTMANAGER_PORT", 9093))
    node_exporter: int = field(default_factory=lambda: env_port("NODE_EXPORTER_PORT", 9100))
    spotlight: int = field(default_factory=lambda: env_port("SPOTLIGHT_PORT", 8969))
    capture: int = field(default_factory=lambda: env_port("CAPTURE_PORT", 9911))
    local_pg: int = field(default_factory=lambda: env_port("LOCAL_PG_PORT", 55432))
    local_redis: int = field(default_factory=lambda: env_port("LOCAL_REDIS_PORT", 56379))


def data_dir() -> Path:
    return Path(os.environ.get("NORTHSTAR_DATA_DIR", ROOT / ".data")).resolve()


# --- small helpers -------------------------------------------------------------------------

def log(msg: str) -> None:
    print(f"[stack] {msg}", flush=True)


def tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return 200 <= resp.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_for(what: str, check: Callable[[], bool], timeout: float, proc: subprocess.Popen | None = None,
             logfile: Path | None = None) -> None:
    """Poll `check` until it is true; fail fast if the process died, with its log's tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    tail = ""
    if logfile and logfile.exists():
        tail = "\n".join(logfile.read_text(errors="replace").splitlines()[-30:])
    raise SystemExit(f"[stack] {what} did not become ready within {timeout:.0f}s\n{tail}")


def url_with_db(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path="/" + dbname).geturl()


def psql_url(url: str) -> str:
    """The libpq form of a SQLAlchemy URL (psql and pg tools do not know '+asyncpg')."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


# --- the stack -----------------------------------------------------------------------------

class Stack:
    def __init__(self, profile: str, with_frontend: bool, with_monitoring: bool) -> None:
        self.ports = Ports()
        self.profile = profile
        self.with_frontend = with_frontend
        self.with_monitoring = with_monitoring
        self.data = data_dir()
        self.pids = self.data / "pids"
        self.logs = self.data / "logs"
        self.started: list[Path] = []  # pid files written by this invocation

    # process bookkeeping ----------------------------------------------------------------------
    def start(self, name: str, cmd: list[str], env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.Popen:
        self.pids.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        pidfile = self.pids / f"{name}.pid"
        if pidfile.exists() and pid_alive(pidfile):
            raise SystemExit(f"[stack] {name} already runs (pid {pidfile.read_text().split()[0]}); `make down` first")
        logfile = self.logs / f"{name}.log"
        out = open(logfile, "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(cmd, cwd=cwd or ROOT, env={**os.environ, **(env or {})}, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        # pid and its kernel start time: `down` refuses to signal a PID reused by something else
        pidfile.write_text(f"{proc.pid} {start_time(proc.pid)}\n")
        self.started.append(pidfile)
        log(f"started {name} (pid {proc.pid}), log {logfile.relative_to(self.data.parent) if self.data.parent in logfile.parents else logfile}")
        return proc

    # dependencies -------------------------------------------------------------------------------
    def resolve_postgres(self) -> str:
        given = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/northstar")
        parts = urlsplit(given)
        if tcp_open(parts.hostname or "127.0.0.1", parts.port or 5432):
            log(f"PostgreSQL: using {parts.hostname}:{parts.port or 5432}")
            ensure_database(given)
            return given
        log("PostgreSQL: none reachable, starting a project-local one")
        pgdata = self.data / "pg"
        if not (pgdata / "PG_VERSION").exists():
            pgdata.mkdir(parents=True, exist_ok=True)
            run([str(PG_BIN / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                as_postgres_user=True, chown=pgdata)
        cmd = [str(PG_BIN / "postgres"), "-D", str(pgdata), "-h", "127.0.0.1",
               "-p", str(self.ports.local_pg), "-k", str(pgdata)]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = self.start("postgres", cmd)
        wait_for("postgres", lambda: tcp_open("127.0.0.1", self.ports.local_pg), 30, proc, self.logs / "postgres.log")
        url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.ports.local_pg}/northstar"
        deadline = time.monotonic() + 15
        while not try_ensure_database(url):
            if time.monotonic() > deadline:
                raise SystemExit("[stack] local PostgreSQL does not accept connections")
            time.sleep(0.2)
        return url

    def resolve_redis(self) -> str:
        given = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        parts = urlsplit(given)
        if tcp_open(parts.hostname or "127.0.0.1", parts.port or 6379):
            log(f"Redis: using {parts.hostname}:{parts.port or 6379}")
            return given
        log("Redis: none reachable, starting a project-local one")
        (self.data / "redis").mkdir(parents=True, exist_ok=True)
        proc = self.start("redis", [shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1",
                                    "--port", str(self.ports.local_redis), "--save", "", "--appendonly", "no",
                                    "--dir", str(self.data / "redis")])
        wait_for("redis", lambda: tcp_open("127.0.0.1", self.ports.local_redis), 15, proc, self.logs / "redis.log")
        return f"redis://127.0.0.1:{self.ports.local_redis}/0"

    # services --------------------------------------------------------------------------------
    def backend_env(self, db_url: str, redis_url: str) -> dict[str, str]:
        p = self.ports
        return {
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "ENVIRONMENT": os.environ.get("ENVIRONMENT", "development"),
            "GIT_SHA": git_sha(),
            "SENTRY_SPOTLIGHT_URL": f"http://127.0.0.1:{p.spotlight}/stream",
            "MIXPANEL_TOKEN": os.environ.get("MIXPANEL_TOKEN", "local-dev-token"),
            "MIXPANEL_API_URL": f"http://127.0.0.1:{p.capture}/mixpanel",
            "PAYMENT_PROVIDER_URL": f"http://127.0.0.1:{p.capture}/payments",
            # The local stack is where faults are rehearsed; production never sets this.
            "FAULT_INJECTION_ENABLED": os.environ.get("FAULT_INJECTION_ENABLED", "true"),
            "FAULT_STATE_FILE": str(self.data / "faults.json"),
            "PROMETHEUS_MULTIPROC_DIR": str(self.data / "metrics-multiproc"),
            "GUNICORN_BIND": f"127.0.0.1:{p.backend}",
            "METRICS_PORT": str(p.metrics),
            "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
            "RATE_LIMIT_AUTH_PER_MINUTE": os.environ.get("RATE_LIMIT_AUTH_PER_MINUTE", "20"),
        }

    def start_backend(self, benv: dict[str, str]) -> subprocess.Popen:
        """gunicorn (backend/gunicorn_conf.py): uvicorn workers on :backend, /metrics on :metrics."""
        return self.start("backend", [str(VENV_BIN / "gunicorn"), "-c", "gunicorn_conf.py"], env=benv,
                          cwd=ROOT / "backend")

    def migrate(self, env: dict[str, str]) -> None:
        log("migrating the database (alembic upgrade head)")
        run([str(VENV_BIN / "alembic"), "upgrade", "head"], cwd=ROOT / "backend", env=env)

    def check_ports_free(self) -> None:
        """Refuse to start over something else: a readiness probe would happily talk to it."""
        p = self.ports
        wanted = {"backend": p.backend, "backend metrics": p.metrics, "spotlight": p.spotlight,
                  "capture server": p.capture}
        if self.with_monitoring:
            wanted |= {"prometheus": p.prometheus, "alertmanager": p.alertmanager, "node-exporter": p.node_exporter}
        if self.with_frontend:
            wanted["frontend"] = p.frontend
        taken = [f"{name} :{port}" for name, port in wanted.items() if tcp_open("127.0.0.1", port)]
        if taken:
            raise SystemExit("[stack] ports already in use: " + ", ".join(taken)
                             + " (another `make up`? run `make down`, or set the *_PORT variables)")

    def up(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        self.check_ports_free()
        p = self.ports
        db_url = self.resolve_postgres()
        redis_url = self.resolve_redis()
        benv = self.backend_env(db_url, redis_url)
        self.migrate(benv)
        procs: list[tuple[str, subprocess.Popen, Callable[[], bool], float]] = []

        capture = self.start("capture", [str(VENV_BIN / "python"), str(ROOT / "infra/local/capture_server.py"),
                                         "--port", str(p.capture)])
        procs.append(("capture", capture, lambda: http_ok(f"http://127.0.0.1:{p.capture}/health"), 15))

        spotlight = self.start("spotlight", [str(ROOT / "infra/spotlight/run.sh"), str(p.spotlight)])
        procs.append(("spotlight", spotlight, lambda: http_ok(f"http://127.0.0.1:{p.spotlight}/health"), 30))

        backend = self.start_backend(benv)
        procs.append(("backend", backend, lambda: http_ok(f"http://127.0.0.1:{p.backend}/ready"), 60))

        if self.with_monitoring:
            from infra.local import monitoring_config  # noqa: PLC0415 - needs the monitoring package only here

            node = self.start("node-exporter", ["prometheus-node-exporter", "--no-collector.systemd",
                                                f"--web.listen-address=127.0.0.1:{p.node_exporter}"])
            procs.append(("node-exporter", node, lambda: http_ok(f"http://127.0.0.1:{p.node_exporter}/metrics"), 15))
            am_config = monitoring_config.render_alertmanager(self.data, p, self.profile)
            am = self.start("alertmanager", ["prometheus-alertmanager", f"--config.file={am_config}",
                                             f"--storage.path={self.data / 'alertmanager'}",
                                             f"--web.listen-address=127.0.0.1:{p.alertmanager}",
                                             f"--web.external-url=http://127.0.0.1:{p.alertmanager}",
                                             "--cluster.listen-address="])
            procs.append(("alertmanager", am, lambda: http_ok(f"http://127.0.0.1:{p.alertmanager}/-/ready"), 20))
            prom_config = monitoring_config.render_prometheus(self.data, p, self.profile)
            prom = self.start("prometheus", ["prometheus", f"--config.file={prom_config}",
                                             f"--storage.tsdb.path={self.data / 'prometheus'}",
                                             f"--web.listen-address=127.0.0.1:{p.prometheus}",
                                             "--storage.tsdb.retention.time=30d", "--web.enable-lifecycle",
                                             f"--web.external-url=http://127.0.0.1:{p.prometheus}",
                                             # fast profile: re-send firing alerts every second, not every minute
                                             "--rules.alert.resend-delay=" + ("1s" if self.profile == "fast" else "1m")])
            procs.append(("prometheus", prom, lambda: http_ok(f"http://127.0.0.1:{p.prometheus}/-/ready"), 30))

        if self.with_frontend:
            fenv = {
                "PORT": str(p.frontend), "HOSTNAME": "127.0.0.1", "NEXT_TELEMETRY_DISABLED": "1",
                "BACKEND_URL": f"http://127.0.0.1:{p.backend}",
                "SENTRY_SPOTLIGHT_URL": f"http://127.0.0.1:{p.spotlight}/stream",
            }
            front = self.start("frontend", ["npx", "--no-install", "next", "start", "-H", "127.0.0.1",
                                            "-p", str(p.frontend)], env=fenv, cwd=ROOT / "frontend")
            procs.append(("frontend", front, lambda: http_ok(f"http://127.0.0.1:{p.frontend}/"), 60))

        for name, proc, check, timeout in procs:
            wait_for(name, check, timeout, proc, self.logs / f"{name}.log")
            log(f"{name} ready")
        self.write_env(benv)
        self.print_urls()

    def write_env(self, benv: dict[str, str]) -> None:
        p = self.ports
        lines = {
            **{k: benv[k] for k in ("DATABASE_URL", "REDIS_URL", "FAULT_STATE_FILE", "PROMETHEUS_MULTIPROC_DIR")},
            "BACKEND_URL": f"http://127.0.0.1:{p.backend}",
            "BACKEND_METRICS_URL": f"http://127.0.0.1:{p.metrics}/metrics",
            "FRONTEND_URL": f"http://127.0.0.1:{p.frontend}",
            "PROMETHEUS_URL": f"http://127.0.0.1:{p.prometheus}",
            "ALERTMANAGER_URL": f"http://127.0.0.1:{p.alertmanager}",
            "SPOTLIGHT_URL": f"http://127.0.0.1:{p.spotlight}",
            "CAPTURE_URL": f"http://127.0.0.1:{p.capture}",
            "BACKEND_LOG_FILE": str(self.logs / "backend.log"),
            "ALERT_PROFILE": self.profile,
        }
        (self.data / "stack.env").write_text("".join(f"{k}={v}\n" for k, v in lines.items()))

    def print_urls(self) -> None:
        p = self.ports
        rows = [
            ("frontend (the product)", f"http://127.0.0.1:{p.frontend}", self.with_frontend),
            ("backend API docs", f"http://127.0.0.1:{p.backend}/docs", True),
            ("backend metrics", f"http://127.0.0.1:{p.metrics}/metrics", True),
            ("Spotlight (local Sentry)", f"http://127.0.0.1:{p.spotlight}", True),
            ("capture server (Mixpanel/Slack/PagerDuty)", f"http://127.0.0.1:{p.capture}", True),
            ("Prometheus", f"http://127.0.0.1:{p.prometheus}/classic/graph", self.with_monitoring),
            ("Prometheus alerts", f"http://127.0.0.1:{p.prometheus}/classic/alerts", self.with_monitoring),
            ("Alertmanager", f"http://127.0.0.1:{p.alertmanager}", self.with_monitoring),
            ("node-exporter", f"http://127.0.0.1:{p.node_exporter}/metrics", self.with_monitoring),
        ]
        print("\nNorthstar is up:")
        for label, url, shown in rows:
            if shown:
                print(f"  {label:45s} {url}")
        print(f"  logs: {self.logs}   stop: make down\n", flush=True)


def down(only: list[Path] | None = None) -> int:
    """Stop what `up` recorded (or only the given pid files), newest first: apps before their dependencies."""
    pids = data_dir() / "pids"
    if only is None:
        if not pids.exists():
            log("nothing to stop")
            return 0
        files = sorted(pids.glob("*.pid"), key=lambda f: f.stat().st_mtime, reverse=True)
    else:
        files = list(reversed(only))
    for pidfile in files:
        name = pidfile.stem
        pid = int(pidfile.read_text().split()[0])
        if not pid_alive(pidfile):
            log(f"{name}: not running")
            pidfile.unlink(missing_ok=True)
            continue
        log(f"stopping {name} (pid {pid})")
        try:
            os.killpg(pid, signal.SIGTERM)  # the process group we created with start_new_session
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and process_exists(pid):
            time.sleep(0.1)
        if process_exists(pid):
            log(f"{name} ignored SIGTERM, killing")
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        pidfile.unlink(missing_ok=True)
    return 0


def status() -> int:
    pids = data_dir() / "pids"
    for pidfile in sorted(pids.glob("*.pid")) if pids.exists() else []:
        state = "running" if pid_alive(pidfile) else "dead"
        print(f"{pidfile.stem:15s} {pidfile.read_text().split()[0]:>8s} {state}")
    return 0


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def pid_alive(pidfile: Path) -> bool:
    """True when the PID runs and is the very process we started (same start time: no PID reuse)."""
    try:
        pid_s, *rest = pidfile.read_text().split()
        pid = int(pid_s)
    except (OSError, ValueError):
        return False
    return process_exists(pid) and (not rest or start_time(pid) == rest[0])


def git_sha() -> str:
    if os.environ.get("GIT_SHA"):
        return os.environ["GIT_SHA"]
    try:
        return subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
        as_postgres_user: bool = False, chown: Path | None = None) -> None:
    if as_postgres_user and os.geteuid() == 0:
        if chown is not None:
            shutil.chown(chown, "postgres", "postgres")
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, cwd=cwd or ROOT, env={**os.environ, **(env or {})}, check=True)


def try_ensure_database(url: str) -> bool:
    try:
        ensure_database(url)
        return True
    except subprocess.CalledProcessError:
        return False


def ensure_database(url: str) -> None:
    """Create the database named in `url` when it does not exist yet (idempotent)."""
    dbname = urlsplit(url).path.lstrip("/") or "northstar"
    admin = psql_url(url_with_db(url, "postgres"))
    exists = subprocess.run(["psql", admin, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{dbname}'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if exists != "1":
        subprocess.run(["psql", admin, "-c", f'CREATE DATABASE "{dbname}"'], capture_output=True, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the Northstar stack as native processes.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    up_p = sub.add_parser("up")
    up_p.add_argument("--profile", choices=("production", "fast"), default=os.environ.get("ALERT_PROFILE", "production"),
                      help="alert rule profile loaded into Prometheus (fast: scaled-down windows, 1s scrapes)")
    up_p.add_argument("--no-frontend", action="store_true")
    up_p.add_argument("--no-monitoring", action="store_true")
    sub.add_parser("down")
    sub.add_parser("status")
    args = parser.parse_args()
    if args.cmd == "up":
        stack = Stack(args.profile, not args.no_frontend, not args.no_monitoring)
        try:
            stack.up()
        except BaseException:
            if stack.started:
                log("start-up failed; stopping what this run started")
                down(stack.started)
            raise
        return 0
    if args.cmd == "down":
        return down()
    return status()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
