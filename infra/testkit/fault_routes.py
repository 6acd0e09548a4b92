"""Tests and runs that inject faults through the backend's `/_faults` routes, in a product without them.

A product rendered with `keep_fault_routes = false` (product.toml `[runtime]`) never mounts
`/_faults` (backend/app/core/config.py). Its tests that need the routes carry the marker
`needs_fault_routes` and are skipped with REASON instead of failing; each suite's conftest
registers the marker (`register`) and calls `skip_marked` from `pytest_collection_modifyitems`.
The load harness and the alert tuner (`make test-alerts-short`, `make verify-alerts`,
`make tune-alerts`) say REASON and exit 0 (`kept()` is false). With `keep_fault_routes = true`
nothing is skipped.
"""

from __future__ import annotations

from infra import product

MARKER = "needs_fault_routes"
REASON = ("keep_fault_routes = false (product.toml [runtime]): this product never mounts /_faults, "
          "so there is no fault to inject")


def kept() -> bool:
    """The product definition's choice (infra/product.py PRODUCT)."""
    return product.PRODUCT.keep_fault_routes


def register(config) -> None:  # noqa: ANN001 - a pytest.Config
    config.addinivalue_line("markers", f"{MARKER}: injects faults through /_faults (skipped when keep_fault_routes = false)")


def skip_marked(items: list, routes_kept: bool | None = None) -> None:
    """Skip the items marked needs_fault_routes unless the fault routes are kept (default: `kept()`;
    the backend passes its own generated app.core.product.FAULT_ROUTES, the value its app obeys)."""
    if kept() if routes_kept is None else routes_kept:
        return
    import pytest  # noqa: PLC0415 - the harness imports this module too, and runs without pytest

    skip = pytest.mark.skip(reason=REASON)
    for item in items:
        if item.get_closest_marker(MARKER):
            item.add_marker(skip)
