"""Fixtures shared by the journeys: the running stack, Chromium, Spotlight, canaries, artifacts.

The suite needs a running stack (e2e/run.sh starts one); it stops at once with a clear message
when `<STACK_DATA_DIR>/stack.env` is missing or a service does not answer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from infra.testkit import fault_routes
from support import faults
from support.browser import BrowserJourney
from support.canaries import CanaryRegistry
from support.spotlight import SpotlightCollector
from support.stack import Stack, StackNotUp, load

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

# Debian's Chromium; `playwright install` is never run (it downloads a browser).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_configure(config: pytest.Config) -> None:
    fault_routes.register(config)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    fault_routes.skip_marked(items)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def stack() -> Stack:
    try:
        running = load()
    except StackNotUp as exc:
        pytest.exit(f"e2e: {exc}", returncode=3)
    if fault_routes.kept():
        faults.clear(running.backend_url)  # a previous run interrupted mid-fault must not leak into this one
    return running


@pytest.fixture(scope="session")
def spotlight(stack: Stack) -> Iterator[SpotlightCollector]:
    collector = SpotlightCollector(stack.spotlight_url)
    collector.start()
    yield collector
    collector.stop()


@pytest.fixture(scope="session")
def canaries() -> CanaryRegistry:
    return CanaryRegistry()


# --- artifacts of failed tests -------------------------------------------------------------
_FAILED_MODULES: set[str] = set()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        _FAILED_MODULES.add(item.module.__name__)


@pytest.fixture(scope="module")
def journey(request: pytest.FixtureRequest, browser: Browser, stack: Stack, spotlight: SpotlightCollector) -> Iterator[BrowserJourney]:
    """A browser context for this module's journey; its trace and screenshot are kept if any test here fails."""
    module = request.module.__name__
    recorder = BrowserJourney(name=module, browser=browser, frontend_url=stack.frontend_url, artifacts_root=ARTIFACTS)
    recorder.start()
    yield recorder
    kept = recorder.finish(keep=module in _FAILED_MODULES)
    if kept is not None:
        print(f"\n[e2e] {module}: trace and screenshot kept in {kept} "
              f"(open with: .venv/bin/playwright show-trace {kept / 'trace.zip'})")
