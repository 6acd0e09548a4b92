"""The test kit every suite uses (backend/tests, monitoring/tests, e2e/, loadtests/).

- polling with a deadline: `wait_until(check, timeout, interval, what)` (raises WaitTimeout,
  an AssertionError and a TimeoutError); `wait_until_async` for async tests;
- free loopback ports: `free_port()`, `free_ports(n)`;
- process handles that stop by PID: `Process`, and `start_service(service, log_dir)` for one
  service of the stack (infra/local/services.py: `capture_service(ports)`, ...) started and
  awaited exactly as the stack does;
- clients (infra/testkit/clients.py): `Prometheus`, `Alertmanager`, `Capture`, `Faults`;
  Spotlight's envelope stream: `infra.testkit.spotlight.SpotlightCollector`.

The whole stack is `infra.local.stack.Stack`. The primitives live in infra/local (the stack is
built on them and must not import a test kit); this package is where tests take them from.
"""

from __future__ import annotations

from pathlib import Path

from infra.local.polling import WaitTimeout, wait_until, wait_until_async
from infra.local.processes import Process, free_port, free_ports
from infra.local.services import Service
from infra.testkit.clients import Alertmanager, Capture, Faults, Prometheus

__all__ = ["Alertmanager", "Capture", "Faults", "Process", "Prometheus", "WaitTimeout", "free_port", "free_ports",
           "start_service", "wait_until", "wait_until_async"]


def start_service(service: Service, log_dir: Path) -> Process:
    """Start one service of the stack and wait until it is ready (stop it with `.stop()`)."""
    return service.run(Path(log_dir) / f"{service.name}.log")
