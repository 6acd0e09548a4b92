#!/usr/bin/env python3
"""`make test-alerts`: send a synthetic alert through Alertmanager and show where it landed.

Posts an alert to Alertmanager's v2 API (what Prometheus does), waits until the capture server
(the Slack/PagerDuty stand-in) received the notification(s), prints them, then resolves the
alert. Routing is Alertmanager's: critical -> PagerDuty + Slack #alerts; warning -> Slack #alerts
in business hours only (with the production config it may be held outside them: then nothing
lands, and the script says so); --alertname NewErrorType -> Slack #engineering.

    python monitoring/scripts/send_test_alert.py [--severity critical|warning] [--alertname X]
        [--alertmanager http://127.0.0.1:9093] [--capture http://127.0.0.1:9911] [--timeout 60]

Exit 0 when something landed in every receiver the severity promises, 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: the repository's packages
from monitoring.rules.catalogue import runbook_url  # noqa: E402

EXPECTED = {"critical": {"pagerduty", "slack:alerts"}, "warning": {"slack:alerts"}}


def _request(method: str, url: str, body: object | None = None, timeout: float = 5) -> object:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def post_alert(alertmanager: str, labels: dict, annotations: dict, resolved: bool = False) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    alert = {"labels": labels, "annotations": annotations, "startsAt": now.isoformat(),
             "generatorURL": "http://127.0.0.1/send-test-alert"}
    if resolved:
        alert["endsAt"] = now.isoformat()
    _request("POST", f"{alertmanager.rstrip('/')}/api/v2/alerts", [alert])


def landed(capture: str, marker: str, since: int) -> list[dict]:
    """Captured Slack/PagerDuty notifications mentioning the marker, received after `since`."""
    found = []
    for kind in ("slack", "pagerduty"):
        for item in _request("GET", f"{capture.rstrip('/')}/api/captured?kind={kind}&since={since}"):
            if marker in json.dumps(item.get("payload")):
                found.append(item)
    return found


def destination(item: dict) -> str:
    return f"slack:{item['channel']}" if item["kind"] == "slack" else "pagerduty"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alertmanager", default=os.environ.get("ALERTMANAGER_URL", "http://127.0.0.1:9093"))
    parser.add_argument("--capture", default=os.environ.get("CAPTURE_URL", "http://127.0.0.1:9911"))
    parser.add_argument("--severity", choices=["critical", "warning"], default="critical")
    parser.add_argument("--alertname", default="SyntheticTestAlert")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--keep", action="store_true", help="do not resolve the alert afterwards")
    args = parser.parse_args(argv)

    marker = f"test-{uuid.uuid4().hex[:8]}"
    labels = {"alertname": args.alertname, "severity": args.severity, "service": "synthetic-test", "test_id": marker}
    annotations = {"summary": f"Synthetic test alert {marker} (make test-alerts)",
                   "description": "Sent by monitoring/scripts/send_test_alert.py to prove the alert path works.",
                   "runbook_url": runbook_url("README")}
    expected = {"slack:engineering"} if args.alertname == "NewErrorType" else EXPECTED[args.severity]

    before = _request("GET", f"{args.capture.rstrip('/')}/api/captured")
    since = max((i["seq"] for i in before), default=0)
    post_alert(args.alertmanager, labels, annotations)
    print(f"sent {args.alertname} severity={args.severity} test_id={marker} to {args.alertmanager}")

    deadline = time.monotonic() + args.timeout
    items: list[dict] = []
    while time.monotonic() < deadline:
        items = landed(args.capture, marker, since)
        if {destination(i) for i in items} >= expected:
            break
        time.sleep(0.5)
    for item in items:
        payload = item["payload"]
        text = (payload.get("attachments") or [{}])[0].get("title") if item["kind"] == "slack" else \
            payload.get("payload", {}).get("summary")
        print(f"landed in {destination(item)}: {text}")
    if not args.keep:
        post_alert(args.alertmanager, labels, annotations, resolved=True)
    missing = expected - {destination(i) for i in items}
    if missing:
        print(f"NOT landed within {args.timeout:.0f}s: {', '.join(sorted(missing))} "
              "(warnings wait for business hours with the production config)")
        return 1
    print(f"see {args.capture.rstrip('/')}/ for the full payloads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
