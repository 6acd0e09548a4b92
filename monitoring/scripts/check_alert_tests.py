#!/usr/bin/env python3
"""Fail when an alert has no promtool unit test, per profile.

For every alert in prometheus/rules/<profile>/*.yml, the tests in prometheus/tests/<profile>/
must contain at least one `alert_rule_test` that expects it to fire (non-empty exp_alerts) and
one that expects it silent (empty exp_alerts). Reads the YAML files on disk, so deleting or
emptying a test file is caught even though the files are generated.

    python monitoring/scripts/check_alert_tests.py [--root monitoring/prometheus]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "prometheus"


def alerts_in(rule_dir: Path) -> set[str]:
    names = set()
    for path in sorted(rule_dir.glob("*.yml")):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            names |= {r["alert"] for r in group.get("rules", []) if "alert" in r}
    return names


def coverage(test_dir: Path) -> tuple[set[str], set[str]]:
    """(alerts expected to fire somewhere, alerts expected silent somewhere)."""
    fires, silent = set(), set()
    for path in sorted(test_dir.glob("*.yml")):
        for test in (yaml.safe_load(path.read_text()) or {}).get("tests", []):
            for check in test.get("alert_rule_test", []):
                (fires if check.get("exp_alerts") else silent).add(check["alertname"])
    return fires, silent


def problems(root: Path = DEFAULT_ROOT) -> list[str]:
    out = []
    profiles = sorted(p.name for p in (root / "rules").iterdir() if p.is_dir())
    if not profiles:
        out.append(f"no rule profiles under {root / 'rules'}")
    for profile in profiles:
        alerts = alerts_in(root / "rules" / profile)
        fires, silent = coverage(root / "tests" / profile)
        for alert in sorted(alerts - fires):
            out.append(f"{profile}: {alert} has no unit test where it fires")
        for alert in sorted(alerts - silent):
            out.append(f"{profile}: {alert} has no unit test where it must stay silent")
        for alert in sorted((fires | silent) - alerts):
            out.append(f"{profile}: tests mention {alert}, which is not an alert")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    args = parser.parse_args(argv)
    found = problems(args.root)
    for line in found:
        print(line)
    if not found:
        print("every alert has a firing and a silent unit test in every profile")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
