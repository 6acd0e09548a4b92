import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from infra.testkit import fault_routes  # noqa: E402 - after the repository is on sys.path


def pytest_configure(config):
    config.addinivalue_line("markers", "live: starts real backend, Prometheus and Alertmanager processes (~1-2 min)")
    fault_routes.register(config)


def pytest_collection_modifyitems(items):
    fault_routes.skip_marked(items)
