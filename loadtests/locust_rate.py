"""The highest request rate Locust reaches here: one Locust process against master + N workers
(Locust's own distribution: `--processes N` forks N workers under a master; on several machines
the same is `locust --master` + `locust --worker --master-host ...`, infra/k8s/loadtest).

    python -m loadtests.locust_rate --workers 2 --seconds 20   # starts its own HA stack (free ports)
    python -m loadtests.locust_rate --host http://127.0.0.1:8000   # against a running stack

Each run drives loadtests/locust_throughput.py (users that GET /health without pause, so the
client, not think time, is the limit) for the same duration and users, and prints the rates side
by side with the load average. Bounded (users, run time) and loopback only, like every load here.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCUST = ROOT / ".venv" / "bin" / "locust"
LOCUSTFILE = ROOT / "loadtests" / "locust_throughput.py"


def run(host: str, users: int, seconds: int, workers: int, out: Path) -> tuple[float, int, int]:
    """(requests/s, requests, failures) of one headless run; workers=0: a single process."""
    if not host.startswith(("http://127.0.0.1", "http://localhost")):
        raise SystemExit(f"load goes to loopback only, not {host}")
    prefix = out / f"rate-{workers}w"
    cmd = [str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "--host", host, "-u", str(users), "-r", str(users),
           "--run-time", f"{seconds}s", "--stop-timeout", "2", "--csv", str(prefix), "--only-summary",
           "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    if workers:
        cmd += ["--processes", str(workers)]
    subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True,
                   capture_output=True, timeout=seconds + 60)
    with open(f"{prefix}_stats.csv") as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    return float(row["Requests/s"]), int(row["Request Count"]), int(row["Failure Count"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", help="a running stack's backend URL (default: start an HA stack)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args(argv)
    out = Path(tempfile.mkdtemp(prefix="ns-locust-rate-"))
    stack = None
    host = args.host
    if host is None:
        from loadtests.stack_control import harness_stack  # noqa: PLC0415

        stack = harness_stack(False, log=lambda m: None, topology="ha")
        host = stack.up()["BACKEND_URL"]
    try:
        single = run(host, args.users, args.seconds, 0, out)
        multi = run(host, args.users, args.seconds, args.workers, out)
    finally:
        if stack is not None:
            stack.down()
    load = os.getloadavg()
    print(f"{'locust':24s} {'req/s':>8s} {'requests':>9s} {'failed':>7s}")
    print(f"{'1 process':24s} {single[0]:8.1f} {single[1]:9d} {single[2]:7d}")
    print(f"{f'master + {args.workers} workers':24s} {multi[0]:8.1f} {multi[1]:9d} {multi[2]:7d}")
    print(f"ratio {multi[0] / single[0] if single[0] else float('nan'):.2f}x; {args.users} users, {args.seconds}s each; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
