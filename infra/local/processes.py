"""Start and stop processes by PID: the one process handle of the project.

Each process is started in its own session (it leads its process group) with its output in a
log file. A pid file records the PID *and* its kernel start time, so that a later `down` (another
Python process) signals only the very process we started, never a PID the kernel has reused.
Stopping sends SIGTERM to the process group (workers, `exec`ed children included), then SIGKILL
after a grace period.

Python's subprocess module is the supervisor here on purpose: honcho/supervisord would add a
daemon to install and learn, and we need only start, readiness and stop by PID.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def process_exists(pid: int) -> bool:
    """True while `pid` runs (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat); '' if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def read_pidfile(pidfile: Path) -> tuple[int, str] | None:
    try:
        pid_s, *rest = pidfile.read_text().split()
        return int(pid_s), (rest[0] if rest else "")
    except (OSError, ValueError):
        return None


def pid_alive(pidfile: Path) -> bool:
    """True when the recorded PID runs and is the very process we started (same start time)."""
    recorded = read_pidfile(pidfile)
    if recorded is None:
        return False
    pid, started = recorded
    return process_exists(pid) and (not started or start_time(pid) == started)


def stop_pid(pid: int, started: str = "", grace: float = 20.0) -> bool:
    """SIGTERM the process group `pid` leads (SIGKILL after `grace` s). False when it was not running
    or the PID now belongs to another process (start time differs): then nothing is signalled."""
    if not process_exists(pid) or (started and start_time(pid) != started):
        return False
    target = pid if _pgid(pid) == pid else None  # the group we created with start_new_session
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(target, sig) if target else os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and process_exists(pid):
            time.sleep(0.05)
        if not process_exists(pid):
            break
    if target:  # children that outlived their leader (gunicorn workers, node under run.sh)
        try:
            os.killpg(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return True


def stop_pidfile(pidfile: Path, grace: float = 20.0) -> bool:
    """Stop what `pidfile` records (see stop_pid) and remove the file. True when something was stopped."""
    recorded = read_pidfile(pidfile)
    stopped = stop_pid(*recorded, grace=grace) if recorded else False
    pidfile.unlink(missing_ok=True)
    return stopped


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


class Process:
    """A child process of ours: its own session, output in `log`, optional pid file, stopped by PID."""

    def __init__(self, name: str, popen: subprocess.Popen, log: Path, pidfile: Path | None = None) -> None:
        self.name = name
        self.popen = popen
        self.log = log
        self.pidfile = pidfile
        self.started = start_time(popen.pid)

    @classmethod
    def start(cls, name: str, argv: list[str], *, log: Path, env: dict[str, str] | None = None,
              cwd: Path | None = None, pidfile: Path | None = None, inherit_env: bool = True) -> Process:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
            popen = subprocess.Popen(argv, cwd=cwd, env={**(os.environ if inherit_env else {}), **(env or {})},
                                     stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        proc = cls(name, popen, log, pidfile)
        if pidfile is not None:
            pidfile.parent.mkdir(parents=True, exist_ok=True)
            pidfile.write_text(f"{popen.pid} {proc.started}\n")
        return proc

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def exited(self) -> str | None:
        """For wait_until(give_up=...): why waiting for this process is pointless, or None."""
        code = self.popen.poll()
        return None if code is None else f"{self.name} exited with {code}\n{self.tail()}"

    def signal(self, sig: int) -> None:
        if self.alive():
            self.popen.send_signal(sig)

    def stop(self, grace: float = 15.0) -> None:
        """Stop by PID (its process group); reap it; remove its pid file."""
        if self.alive():
            stop_pid(self.pid, self.started, grace)
        self._reap()

    def kill(self) -> None:
        """SIGKILL its process group at once (a crash: no graceful stop); reap it; remove its pid file."""
        if self.alive() and (not self.started or start_time(self.pid) == self.started):
            try:
                os.killpg(self.pid, signal.SIGKILL) if _pgid(self.pid) == self.pid else os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._reap()

    def _reap(self) -> None:
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        if self.pidfile is not None:
            self.pidfile.unlink(missing_ok=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output().splitlines()[-lines:])


# Every port free_ports has handed out in this process: a second call must not return one of
# them (Ports.free() and HaPorts.free() are two calls, and the kernel may hand a just-released
# port out again; a stack whose two services share a port starts one of them over the other).
_HANDED_OUT: set[int] = set()


def free_ports(n: int) -> list[int]:
    """n distinct loopback ports free for TCP and UDP (Alertmanager's gossip listens on both),
    never one this process has handed out before (bound to port 0 together, then released)."""
    socks: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < n:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            port = s.getsockname()[1]
            if port in _HANDED_OUT or not _udp_free(port):
                continue  # keep it bound, so the next bind(0) picks another
            ports.append(port)
        _HANDED_OUT.update(ports)
        return ports
    finally:
        for s in socks:
            s.close()


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    return free_ports(1)[0]
