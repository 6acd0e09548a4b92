"""Write (or check) every generated file under monitoring/.

    python -m monitoring.generate          # write
    python -m monitoring.generate --check  # exit 1 and list files that differ from the sources

Sources: monitoring/rules/ (alerts, recording rules, promtool tests), prometheus_config.py,
alertmanager_config.py, dashboards/. Generated folders are owned entirely by the generator:
files there that the generator no longer produces are reported (and deleted on write).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from infra import generated_files
from monitoring import alertmanager_config, prometheus_config
from monitoring.profiles import FAST, PRODUCTION, PROFILES
from monitoring.rules.render import RULES_DIR, TESTS_DIR, render_rules, render_tests
from monitoring.yamlio import dump

ROOT = Path(__file__).resolve().parent
OWNED_DIRS = [RULES_DIR, TESTS_DIR, "grafana/dashboards"]


def outputs() -> dict[str, str]:
    from monitoring.dashboards.build import render_dashboards

    out: dict[str, str] = {}
    for p in PROFILES.values():
        out.update(render_rules(p))
        out.update(render_tests(p))
    src = "monitoring/prometheus_config.py"
    out["prometheus/prometheus.yml"] = dump(prometheus_config.native(PRODUCTION), src)
    out["prometheus/prometheus.fast.yml"] = dump(prometheus_config.native(FAST), src)
    out["prometheus/prometheus.docker.yml"] = dump(prometheus_config.docker(PRODUCTION), src)
    src = "monitoring/alertmanager_config.py"
    out["alertmanager/alertmanager.yml"] = dump(alertmanager_config.build(profile=PRODUCTION), src)
    for name, dashboard in render_dashboards().items():
        out[f"grafana/dashboards/{name}"] = json.dumps(dashboard, indent=2, sort_keys=True) + "\n"
    return out


def diff(root: Path = ROOT) -> list[str]:
    """Generated paths whose committed content differs from the generator (or is missing/stale)."""
    return generated_files.diff(outputs(), root, OWNED_DIRS)


def write(root: Path = ROOT) -> list[str]:
    return generated_files.write(outputs(), root, OWNED_DIRS)


def main(argv: list[str] | None = None) -> int:
    return generated_files.main(argv, doc=__doc__, module="monitoring.generate", label="monitoring", diff=diff, write=write)


if __name__ == "__main__":
    sys.exit(main())
