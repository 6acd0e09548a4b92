"""Every alert has a firing and a silent promtool test; the checker catches a removed test."""

import shutil
import subprocess
import sys

import yaml

from monitoring.generate import ROOT
from monitoring.rules.catalogue import RULE_FILE
from monitoring.scripts import check_alert_tests as checker

SCRIPT = ROOT / "scripts" / "check_alert_tests.py"


def copy_prometheus(tmp_path):
    shutil.copytree(ROOT / "prometheus" / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "prometheus" / "tests", tmp_path / "tests")
    return tmp_path


def test_every_alert_is_tested():
    assert checker.problems() == []
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_removing_one_alerts_tests_fails_the_check(tmp_path):
    root = copy_prometheus(tmp_path)
    (root / "tests" / "fast" / "SlowAPI.test.yml").unlink()
    assert checker.problems(root) == [
        "fast: SlowAPI has no unit test where it fires",
        "fast: SlowAPI has no unit test where it must stay silent",
    ]
    result = subprocess.run([sys.executable, str(SCRIPT), "--root", str(root)], capture_output=True, text=True)
    assert result.returncode == 1 and "SlowAPI" in result.stdout


def test_removing_only_the_silent_case_fails_the_check(tmp_path):
    root = copy_prometheus(tmp_path)
    path = root / "tests" / "production" / "ServiceDown.test.yml"
    doc = yaml.safe_load(path.read_text())
    for test in doc["tests"]:
        test["alert_rule_test"] = [c for c in test["alert_rule_test"] if c.get("exp_alerts")]
    path.write_text(yaml.safe_dump(doc))
    assert checker.problems(root) == ["production: ServiceDown has no unit test where it must stay silent"]


def test_a_new_alert_without_tests_fails_the_check(tmp_path):
    root = copy_prometheus(tmp_path)
    path = root / "rules" / "production" / RULE_FILE
    doc = yaml.safe_load(path.read_text())
    doc["groups"][0]["rules"].append({"alert": "Untested", "expr": "vector(1)"})
    path.write_text(yaml.safe_dump(doc))
    assert "production: Untested has no unit test where it fires" in checker.problems(root)
