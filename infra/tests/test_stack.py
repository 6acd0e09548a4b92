"""The stack library: one port table that the docs and Prometheus agree with, processes stopped by
PID (never a reused PID), taken ports refused, and the services themselves starting for real."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from infra.local import processes
from infra.local.monitoring_config import render_prometheus
from infra.local.polling import WaitTimeout, tcp_open, wait_until
from infra.local.services import PORTS, Ports, capture_service
from infra.local.stack import Stack, StackError, down
from infra.testkit import Capture, start_service
from monitoring import prometheus_config
from monitoring.profiles import FAST
from yaml import safe_load as load

ROOT = Path(__file__).resolve().parents[2]


def test_contracts_port_table_is_the_services_table():
    text = (ROOT / "docs/contracts.md").read_text()
    table = text.split("## Ports", 1)[1].split("\n## ", 1)[0]
    documented = [int(m) for m in re.findall(r"^\|\s*(\d+)\s*\|", table, re.M)]
    assert documented == [p.contract for p in PORTS]


def test_committed_prometheus_targets_are_the_contract_ports():
    assert prometheus_config.NATIVE_TARGETS == Ports().scrape_targets()
    assert prometheus_config.NATIVE_ALERTMANAGER == Ports().address("alertmanager")
    for job in Ports().scrape_targets():
        assert job in prometheus_config.JOBS_BY_NAME, f"{job} is not a Prometheus job"


def test_rendered_prometheus_config_scrapes_the_stacks_ports(tmp_path):
    ports = Ports.free()
    config = load(render_prometheus(tmp_path, ports, FAST).read_text())
    targets = {c["job_name"]: c["static_configs"][0]["targets"] for c in config["scrape_configs"]}
    assert targets == {job: [address] for job, address in ports.scrape_targets().items()}
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [ports.address("alertmanager")]
    assert config["global"]["scrape_interval"] == FAST.scrape_interval


def test_ports_move_with_their_variables():
    ports = Ports.from_env({"BACKEND_PORT": "18000", "CAPTURE_PORT": "19911"})
    assert (ports.backend, ports.capture, ports.metrics) == (18000, 19911, Ports().metrics)
    free = Ports.free()
    assert len({v for _, v in free.items()}) == len(PORTS)


def test_free_ports_never_hand_out_a_port_twice_and_leave_udp_free_too():
    """Ports.free() and HaPorts.free() are separate calls: the kernel hands just-released ports
    out again, and one shared port starts a service over another (the likely cause of run 33 in
    docs/benchmarks.md: Alertmanager member b gone, member a alone in its cluster). A port whose UDP side is taken
    is skipped too (the gossip listens on both)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        taken_udp = udp.getsockname()[1]
        assert not processes._udp_free(taken_udp)
        seen: set[int] = set()
        for _ in range(200):
            ports = processes.free_ports(5)
            assert len(set(ports)) == 5
            assert not seen & set(ports)
            assert taken_udp not in ports
            seen.update(ports)


def _sleeper(tmp_path: Path, name: str = "sleeper") -> processes.Process:
    return processes.Process.start(name, [sys.executable, "-c", "import time; time.sleep(60)"],
                                   log=tmp_path / f"{name}.log", pidfile=tmp_path / f"{name}.pid")


def test_stop_by_pidfile_stops_the_process_and_its_group(tmp_path):
    script = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    proc = processes.Process.start("parent", [sys.executable, "-c", script], log=tmp_path / "p.log",
                                   pidfile=tmp_path / "parent.pid")
    child = wait_until(lambda: _children(proc.pid), 10, 0.05, what="the child process")[0]
    assert processes.pid_alive(tmp_path / "parent.pid")
    assert processes.stop_pidfile(tmp_path / "parent.pid", grace=5)
    proc.popen.wait(5)
    wait_until(lambda: not processes.process_exists(child), 10, 0.05, what="the child to stop with its group")
    assert not (tmp_path / "parent.pid").exists()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(x) for x in out]


def test_a_reused_pid_is_never_signalled(tmp_path):
    proc = _sleeper(tmp_path)
    try:
        pid, started = processes.read_pidfile(tmp_path / "sleeper.pid")
        (tmp_path / "sleeper.pid").write_text(f"{pid} {int(started) + 1}\n")  # as if the PID were reused
        assert not processes.pid_alive(tmp_path / "sleeper.pid")
        assert not processes.stop_pidfile(tmp_path / "sleeper.pid", grace=1)
        assert proc.alive(), "a process whose start time differs from the record was signalled"
    finally:
        proc.stop(grace=2)
    assert not proc.alive()


def test_cli_down_stops_exactly_what_the_pid_files_record(tmp_path):
    data = tmp_path / "data"
    recorded = _sleeper(data / "pids", "recorded")
    unrelated = _sleeper(tmp_path, "unrelated")
    try:
        assert down(data) == 0
        wait_until(lambda: not recorded.alive(), 10, 0.05, what="the recorded process to stop")
        assert unrelated.alive()
        assert not list((data / "pids").glob("*.pid"))
    finally:
        recorded.stop(grace=1)
        unrelated.stop(grace=1)


def test_stack_refuses_taken_ports_and_starts_nothing(tmp_path):
    ports = Ports.free()
    squatter = start_service(capture_service(ports), tmp_path)  # something already on the capture port
    try:
        stack = Stack(ports, FAST, tmp_path / "data", with_frontend=False, with_monitoring=False)
        with pytest.raises(StackError, match=f"capture :{ports.capture}"):
            stack.up()
        assert not stack.processes
        assert not list((tmp_path / "data" / "pids").glob("*.pid")) if (tmp_path / "data" / "pids").exists() else True
    finally:
        squatter.stop()
    assert not tcp_open("127.0.0.1", ports.capture)


def test_a_service_starts_on_its_port_and_answers_its_probe(tmp_path):
    ports = Ports.free()
    capture = start_service(capture_service(ports), tmp_path)
    try:
        assert Capture(ports.url("capture")).captured() == []
    finally:
        capture.stop()
    assert not capture.alive()


def test_wait_until_reports_what_and_the_last_error():
    def never():
        raise AssertionError("still 0")

    with pytest.raises(WaitTimeout, match="waiting for the counter: still 0"):
        wait_until(never, 0.3, 0.05, what="the counter")
    with pytest.raises(TimeoutError):
        wait_until(lambda: False, 0.1, 0.05)
    assert wait_until(lambda: [1], 1) == [1]
