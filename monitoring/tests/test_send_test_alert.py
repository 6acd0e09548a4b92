"""`make test-alerts`: the script's alert goes through a real Alertmanager to the capture server."""

import subprocess
import sys

import pytest

from monitoring.generate import ROOT
from monitoring.tests import live_stack as ls

pytestmark = pytest.mark.live


def test_send_test_alert_lands_in_pagerduty_and_slack(tmp_path):
    capture, capture_url = ls.start_capture(tmp_path)
    am, am_url = ls.start_alertmanager(tmp_path, capture_url)
    try:
        result = subprocess.run([sys.executable, str(ROOT / "scripts/send_test_alert.py"), "--alertmanager", am_url,
                                 "--capture", capture_url, "--timeout", "20"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "landed in pagerduty" in result.stdout and "landed in slack:alerts" in result.stdout
        result = subprocess.run([sys.executable, str(ROOT / "scripts/send_test_alert.py"), "--alertmanager", am_url,
                                 "--capture", capture_url, "--alertname", "NewErrorType", "--severity", "warning",
                                 "--timeout", "20"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and "landed in slack:engineering" in result.stdout, result.stdout
    finally:
        am.stop()
        capture.stop()
