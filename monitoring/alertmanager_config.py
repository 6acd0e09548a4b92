"""alertmanager.yml from one definition.

Routing (the seed's "On-Call Rotation" and section 3 of the agreed design, ../../shared/DESIGN.md):
- NewErrorType, NewBrowserErrorType -> Slack #engineering (any time)
- severity=critical           -> PagerDuty (page now) and Slack #alerts
- severity=warning            -> Slack #alerts, only in business hours (time_intervals)
- anything else               -> Slack #alerts
- critical inhibits warning for the same service (the new-error-type alerts excepted: a new exception type
  during an outage is exactly what the HighErrorRate runbook asks to look for).

Secrets never live in the repo: Slack webhook URLs and the PagerDuty routing key are read by
Alertmanager from files (`api_url_file`, `routing_key_file`, both in Alertmanager 0.25). These
paths must be absolute: Alertmanager 0.25 opens them relative to its working directory, not
the config file (the live test runs it from / to prove the rendered config does not depend on
that). The committed alertmanager.yml is the production shape: secrets under
/etc/alertmanager/secrets, the real PagerDuty URL. `python -m monitoring.native alertmanager`
renders the run-time config and writes the secret files from env vars or, locally, pointing at
the capture server; there the PagerDuty URL (`url`, not a secret) is the capture server's.
"""

from __future__ import annotations

from infra.product import PRODUCT
from monitoring.profiles import PRODUCTION, Profile

SECRET_FILES = {
    "slack_alerts": "slack_alerts_webhook_url",
    "slack_engineering": "slack_engineering_webhook_url",
    "pagerduty": "pagerduty_routing_key",
}
LOCAL_CAPTURE = "http://127.0.0.1:9911"

# The product's business hours and on-call channels (product.toml [alerting]).
BUSINESS_HOURS = {
    "weekdays": [PRODUCT.business_days],
    "times": [{"start_time": PRODUCT.business_hours_start, "end_time": PRODUCT.business_hours_end}],
    "location": PRODUCT.time_zone,
}
ALERTS_CHANNEL = PRODUCT.slack_alerts_channel
ENGINEERING_CHANNEL = PRODUCT.slack_engineering_channel
ALWAYS = {"weekdays": ["sunday:saturday"]}  # Sunday is day 0

SLACK_TITLE = ('[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] '
               '{{ .CommonLabels.alertname }} ({{ .CommonLabels.service }})')
SLACK_TEXT = ('{{ range .Alerts }}*{{ .Annotations.summary }}* ({{ .Labels.severity }})\n'
              '{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}')

# Alerts about a never-seen error type (backend exceptions, browser errors): Slack #engineering.
NEW_ERROR_TYPE_ALERTS = ("NewErrorType", "NewBrowserErrorType")
NEW_ERROR_TYPE_MATCH = "|".join(NEW_ERROR_TYPE_ALERTS)


def _slack(channel: str, secret: str, secrets_dir: str) -> dict:
    return {
        "api_url_file": f"{secrets_dir}/{SECRET_FILES[secret]}",
        "channel": channel,
        "send_resolved": True,
        "title": SLACK_TITLE,
        "text": SLACK_TEXT,
    }


PRODUCTION_SECRETS_DIR = "/etc/alertmanager/secrets"


def build(*, profile: Profile = PRODUCTION, pagerduty_url: str | None = None,
          secrets_dir: str = PRODUCTION_SECRETS_DIR, business_hours: dict | None = None) -> dict:
    """pagerduty_url None = Alertmanager's default (the real PagerDuty Events API v2).
    Timings come from the profile (monitoring/profiles.py)."""
    t = profile.delivery
    if business_hours is None:
        business_hours = BUSINESS_HOURS if t.business_hours_only else ALWAYS
    pagerduty = {
        "routing_key_file": f"{secrets_dir}/{SECRET_FILES['pagerduty']}",
        "send_resolved": True,
        "severity": "{{ if eq .CommonLabels.severity \"critical\" }}critical{{ else }}warning{{ end }}",
        "description": "{{ .CommonLabels.alertname }} ({{ .CommonLabels.service }}): {{ .CommonAnnotations.summary }}",
        "client": f"{PRODUCT.name} Alertmanager",
        "details": {
            "service": "{{ .CommonLabels.service }}",
            "summary": "{{ .CommonAnnotations.summary }}",
            "runbook_url": "{{ .CommonAnnotations.runbook_url }}",
            "num_firing": "{{ .Alerts.Firing | len }}",
            "firing": '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
        },
        "links": [{"href": "{{ .CommonAnnotations.runbook_url }}", "text": "Runbook"}],
    }
    if pagerduty_url:
        pagerduty["url"] = pagerduty_url
    return {
        "route": {
            "receiver": "slack-alerts",
            "group_by": ["alertname", "service"],
            "group_wait": t.group_wait,
            "group_interval": t.group_interval,
            "repeat_interval": t.repeat_interval,
            "routes": [
                {"matchers": [f'alertname=~"{NEW_ERROR_TYPE_MATCH}"'], "receiver": "slack-engineering"},
                {"matchers": ['severity="critical"'], "receiver": "pagerduty", "continue": True,
                 "group_wait": t.critical_group_wait, "repeat_interval": t.critical_repeat_interval},
                {"matchers": ['severity="critical"'], "receiver": "slack-alerts",
                 "group_wait": t.critical_group_wait},
                {"matchers": ['severity="warning"'], "receiver": "slack-alerts",
                 "active_time_intervals": ["business-hours"]},
            ],
        },
        "inhibit_rules": [{
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"', f'alertname!~"{NEW_ERROR_TYPE_MATCH}"'],
            "equal": ["service"],
        }],
        "receivers": [
            {"name": "pagerduty", "pagerduty_configs": [pagerduty]},
            {"name": "slack-alerts", "slack_configs": [_slack(ALERTS_CHANNEL, "slack_alerts", secrets_dir)]},
            {"name": "slack-engineering",
             "slack_configs": [_slack(ENGINEERING_CHANNEL, "slack_engineering", secrets_dir)]},
        ],
        "time_intervals": [{"name": "business-hours", "time_intervals": [business_hours]}],
    }


def local_secret_values(capture_url: str = LOCAL_CAPTURE) -> dict[str, str]:
    """What the secret files hold locally: the capture server stands in for Slack/PagerDuty."""
    return {
        SECRET_FILES["slack_alerts"]: f"{capture_url}/slack/alerts",
        SECRET_FILES["slack_engineering"]: f"{capture_url}/slack/engineering",
        SECRET_FILES["pagerduty"]: "local-capture-routing-key",
    }
