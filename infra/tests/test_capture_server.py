"""The capture server speaks what the real clients send: the mixpanel SDK, Slack and PagerDuty posts."""

import json
import urllib.request

import mixpanel
import pytest

from infra.local.capture_server import serve_in_thread


@pytest.fixture()
def capture():
    server = serve_in_thread()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def _send(url, method, payload):
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, json.loads(r.read())


def _consumer(base):
    return mixpanel.BufferedConsumer(events_url=f"{base}/mixpanel/track", import_url=f"{base}/mixpanel/import",
                                     request_timeout=2, retry_limit=0, max_size=50)


def test_mixpanel_sdk_batches_are_recorded_event_by_event(capture):
    consumer = _consumer(capture)
    mp = mixpanel.Mixpanel("token", consumer=consumer)
    for i in range(3):
        mp.track("user-1", "signed_up", {"$insert_id": f"id-{i}", "plan": "free"})
    consumer.flush()
    events = _get(f"{capture}/api/captured?kind=mixpanel")
    assert [e["event"]["properties"]["$insert_id"] for e in events] == ["id-0", "id-1", "id-2"]
    assert {e["event"]["event"] for e in events} == {"signed_up"}
    assert len({e["batch"] for e in events}) == 1  # one HTTP request carried the batch


def test_mixpanel_outage_answers_503_and_records_nothing(capture):
    _send(f"{capture}/_control/mixpanel", "PUT", {"down": True})
    consumer = _consumer(capture)
    mp = mixpanel.Mixpanel("token", consumer=consumer)
    mp.track("user-1", "signed_up", {"$insert_id": "x"})
    with pytest.raises(mixpanel.MixpanelException):
        consumer.flush()
    assert _get(f"{capture}/api/captured?kind=mixpanel") == []
    _send(f"{capture}/_control/mixpanel", "PUT", {"down": False})
    consumer.flush()  # the buffered event is still there and goes through now
    assert len(_get(f"{capture}/api/captured?kind=mixpanel")) == 1


def test_slack_pagerduty_and_payments(capture):
    assert _send(f"{capture}/slack/alerts", "POST", {"text": "HighErrorRate"})[0] == 200
    status, body = _send(f"{capture}/pagerduty/v2/enqueue", "POST",
                         {"routing_key": "k", "event_action": "trigger", "dedup_key": "d1"})
    assert status == 202 and body["dedup_key"] == "d1"
    status, charge = _send(f"{capture}/payments/charges", "POST", {"amount": 1200})
    assert status == 200 and charge["status"] == "succeeded"
    assert _get(f"{capture}/api/captured?kind=slack")[0]["channel"] == "alerts"
    assert len(_get(f"{capture}/api/captured?kind=pagerduty")) == 1
    with urllib.request.urlopen(capture + "/", timeout=5) as r:
        assert b"HighErrorRate" in r.read()
