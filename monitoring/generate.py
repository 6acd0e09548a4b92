"""Write (or check) every generated file under monitoring/.

    python -m monitoring.generate          # write
    python -m monitoring.generate --check  # exit 1 and list files that differ from the sources

Sources: monitoring/rules/ (alerts, recording rules, promtool tests), prometheus_config.py,
alertmanager_config.py, dashboards/. Generated folders are owned entirely by the generator:
files there that the generator no longer produces are reported (and deleted on write).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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


def stale_files(expected: dict[str, str], root: Path = ROOT) -> list[str]:
    stale = []
    for folder in OWNED_DIRS:
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and rel not in expected:
                stale.append(rel)
    return stale


def diff(root: Path = ROOT) -> list[str]:
    """Generated paths whose committed content differs from the generator (or is missing/stale)."""
    expected = outputs()
    problems = []
    for rel, content in expected.items():
        path = root / rel
        if not path.exists():
            problems.append(f"missing: {rel}")
        elif path.read_text() != content:
            problems.append(f"differs: {rel}")
    problems += [f"stale: {rel}" for rel in stale_files(expected, root)]
    return problems


def write(root: Path = ROOT) -> list[str]:
    expected = outputs()
    changed = []
    for rel, content in expected.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
            changed.append(rel)
    for rel in stale_files(expected, root):
        (root / rel).unlink()
        changed.append(f"{rel} (deleted)")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if committed files differ")
    args = parser.parse_args(argv)
    if args.check:
        problems = diff()
        for line in problems:
            print(line)
        if problems:
            print("run: .venv/bin/python -m monitoring.generate", file=sys.stderr)
        return 1 if problems else 0
    for rel in write():
        print(f"wrote monitoring/{rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
