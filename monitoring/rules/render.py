"""Render the rule files and their promtool tests for one profile."""

from __future__ import annotations

from monitoring.profiles import Profile
from monitoring.rules import catalogue, unit_tests
from monitoring.yamlio import dump

RULES_DIR = "prometheus/rules"
TESTS_DIR = "prometheus/tests"


def render_rules(p: Profile, runbook_base: str = catalogue.RUNBOOK_BASE_URL) -> dict[str, str]:
    """Paths relative to monitoring/ -> file content."""
    return {
        f"{RULES_DIR}/{p.name}/{name}": dump(content, "monitoring/rules/catalogue.py")
        for name, content in catalogue.rule_groups(p, runbook_base).items()
    }


def render_tests(p: Profile, runbook_base: str = catalogue.RUNBOOK_BASE_URL) -> dict[str, str]:
    """One promtool test file per alert: tests/<profile>/<Alert>.test.yml."""
    alerts = {a.alert: a for a in catalogue.all_alerts(p)}
    rule_files = [f"../../rules/{p.name}/{name}" for name in catalogue.rule_groups(p)]
    out = {}
    for group in unit_tests.all_tests(p):
        content = {
            "rule_files": rule_files,
            "evaluation_interval": p.d(group.evaluation_interval),
            "tests": [case.render(p, alerts, runbook_base) for case in group.cases],
        }
        out[f"{TESTS_DIR}/{p.name}/{group.alert}.test.yml"] = dump(content, "monitoring/rules/unit_tests.py")
    out[f"{TESTS_DIR}/{p.name}/cost-recordings.test.yml"] = dump(
        {"rule_files": rule_files, "evaluation_interval": p.d("1m"), "tests": unit_tests.cost_expr_tests(p)},
        "monitoring/rules/unit_tests.py")
    return out
