"""Playwright (Python) against the running stack: Debian Chromium, never `playwright install`.

Environment: FRONTEND_URL (e.g. http://127.0.0.1:3000), PROMETHEUS_URL (http://127.0.0.1:9090),
optional BACKEND_URL (for the fault-injection test), CHROMIUM_PATH (/usr/bin/chromium).
"""

from __future__ import annotations

import os

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def required_env(name: str) -> str:
    value = os.environ.get(name, "").rstrip("/")
    if not value:
        pytest.fail(f"{name} is not set: start the stack (make up) and export {name}", pytrace=False)
    return value


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def frontend_url() -> str:
    return required_env("FRONTEND_URL")


@pytest.fixture(scope="session")
def prometheus_url() -> str:
    return required_env("PROMETHEUS_URL")
