"""Every alert links to its runbook, and every runbook belongs to an alert."""

from monitoring.generate import ROOT
from monitoring.profiles import PROFILES
from monitoring.rules.catalogue import RUNBOOK_BASE_URL, all_alerts, rule_groups

RUNBOOKS = ROOT / "runbooks"


def test_each_alert_has_a_runbook_and_each_runbook_an_alert():
    alerts = {a.alert for a in all_alerts(PROFILES["production"])}
    runbooks = {p.stem for p in RUNBOOKS.glob("*.md")} - {"README"}
    assert alerts - runbooks == set(), "alerts without a runbook"
    assert runbooks - alerts == set(), "runbooks without an alert"


def test_runbook_urls_point_at_the_files():
    for profile in PROFILES.values():
        for doc in rule_groups(profile).values():
            for group in doc["groups"]:
                for rule in group["rules"]:
                    if "alert" not in rule:
                        continue
                    url = rule["annotations"]["runbook_url"]
                    assert url == f"{RUNBOOK_BASE_URL}/{rule['alert']}.md"
                    assert (RUNBOOKS / url.rsplit("/", 1)[1]).is_file()
                    first_line = (RUNBOOKS / f"{rule['alert']}.md").read_text().splitlines()[0]
                    assert first_line == f"# {rule['alert']}"


def test_every_alert_has_severity_service_and_annotations():
    for alert in all_alerts(PROFILES["production"]):
        doc = alert.to_yaml(RUNBOOK_BASE_URL)
        assert doc["labels"]["severity"] in {"critical", "warning"}
        assert set(doc["annotations"]) == {"summary", "description", "runbook_url"}
        assert "{{ $value" in doc["annotations"]["summary"] or alert.alert in {
            "NewErrorType", "NewBrowserErrorType", "TargetMissing", "BackendMetricsMissing", "ServiceDown", "BackendInstanceDown"}, alert.alert
        # `service` comes from the aggregated series (sum by (service), scrape labels, label_replace);
        # the promtool tests assert it on every firing alert.
