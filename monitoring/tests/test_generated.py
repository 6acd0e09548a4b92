"""Generated files (rules, promtool tests, configs, dashboards) match their Python sources."""

import shutil

from monitoring import generate
from monitoring.rules.catalogue import RULE_FILE


def test_committed_files_match_generator():
    problems = generate.diff()
    assert not problems, "run `.venv/bin/python -m monitoring.generate`:\n" + "\n".join(problems)


def test_drift_is_detected(tmp_path):
    for folder in ("prometheus", "alertmanager", "grafana"):
        shutil.copytree(generate.ROOT / folder, tmp_path / folder)
    assert generate.diff(tmp_path) == []
    edited = tmp_path / f"prometheus/rules/fast/{RULE_FILE}"
    edited.write_text(edited.read_text().replace("> 0.05", "> 0.5", 1))
    (tmp_path / "grafana/dashboards/extra.json").write_text("{}")
    (tmp_path / "prometheus/tests/production/HighErrorRate.test.yml").unlink()
    assert sorted(generate.diff(tmp_path)) == [
        f"differs: prometheus/rules/fast/{RULE_FILE}",
        "missing: prometheus/tests/production/HighErrorRate.test.yml",
        "stale: grafana/dashboards/extra.json",
    ]


def test_profiles_differ_only_in_time_scale():
    from monitoring.profiles import FAST, PRODUCTION
    from monitoring.rules.catalogue import all_alerts

    prod, fast = all_alerts(PRODUCTION), all_alerts(FAST)
    assert [a.alert for a in prod] == [a.alert for a in fast]
    assert {a.alert: a.severity for a in prod} == {a.alert: a.severity for a in fast}
    high = {a.alert: a for a in fast}["HighErrorRate"]
    assert high.for_ == "15s" and "[15s]" not in high.expr  # window lives in the recording rule
