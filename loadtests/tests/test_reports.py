"""The reports a person reads, from synthetic results (< 5 s): the answer first, one sentence per
alert, plots written and referenced by both the Markdown and the HTML."""

from __future__ import annotations

import re
from pathlib import Path

from loadtests import capacity_analysis as ca
from loadtests import report, report_capacity, report_tune
from loadtests.verdict import AlertResult, Verdict


def images_of(html: str) -> list[str]:
    return re.findall(r'<img[^>]+src="([^"]+)"', html)


def test_tune_report_answers_per_alert_and_draws_the_level_plot(tmp_path: Path):
    rows = [(0.01, 20.0, {"NewErrorType": 1.0}, []), (0.1, 19.0, {"HighErrorRate": 18.0, "NewErrorType": 2.0}, [])]
    md, page = report_tune.write(tmp_path, ["intro"], {"error_ratio": rows}, ["HighErrorRate", "NewErrorType", "SlowAPI"])
    text = md.read_text()
    answer = text.split("## The answer\n", 1)[1].split("\n## ", 1)[0]
    assert "**HighErrorRate** fires from error_ratio = 0.1, 18 s into that level." in answer
    assert "**NewErrorType** fires from error_ratio = 0.01" in answer
    assert "Silent at every error_ratio level up to 0.1: SlowAPI." in answer
    assert images_of(page.read_text()) == ["tune-error_ratio.png"] and (tmp_path / "tune-error_ratio.png").stat().st_size > 1000


def test_harness_report_has_one_sentence_per_alert_and_html(tmp_path: Path):
    v = Verdict("error_burst", alerts=[
        AlertResult("HighErrorRate", True, True, latency_s=18.2, bound_s=21.0, receivers={"pagerduty": "+0.8s"}),
        AlertResult("ErrorBurst", True, False, note="did not fire")])
    v.failures.append("error_burst: expected alert ErrorBurst did not fire")
    rec = report.ScenarioRecord("error_burst", "errors", "70% 500s", 0.0, 10.0, 40.0, 60.0, v)
    md = report.write(tmp_path, [rec], {"profile": "fast"}, [], v.failures)
    text = md.read_text()
    answer = text.split("## The answer\n", 1)[1].split("\n## ", 1)[0]
    assert ("**HighErrorRate** in error_burst fired 18.2 s after the fault (within its 21.0 s bound), "
            "delivered to pagerduty +0.8s: expected.") in answer
    assert "**ErrorBurst** in error_burst did not fire: expected (did not fire)." in answer
    assert md.with_suffix(".html").exists() and "<table>" in md.with_suffix(".html").read_text()


def test_capacity_report_structure_from_synthetic_steps(tmp_path: Path):
    steps = [ca.Step(0, 10, 0, 40, 8, achieved_rps=15, p50=0.01, p95=0.05, p99=0.1, slow_ratio=0.0, error_ratio=0.0,
                     resources={"backend_cpu_per_worker": 0.2}),
             ca.Step(1, 20, 40, 80, 48, achieved_rps=28, p50=0.3, p95=1.2, p99=2.0, slow_ratio=0.2, error_ratio=0.0,
                     resources={"backend_cpu_per_worker": 0.95})]
    report_capacity.save(tmp_path, {"steps": steps, "events": [
        ca.AlertEvent("SlowAPI", "warning", True, 60.0, 75.0, 1.2, guards="latency"),
        ca.AlertEvent("ServiceDown", "critical", False, None, None, None)],
        "alert_samples": [(0.0, {}), (60.0, {"SlowAPI": "pending"}), (75.0, {"SlowAPI": "firing"}), (80.0, {})],
        "t_ramp": 0.0, "t_end": 80.0, "header": {"ramp": "10, 20"}, "stop_reason": "p95"})
    md, page = report_capacity.render(tmp_path)
    text = md.read_text()
    positions = [text.find(s + "\n") for s in report_capacity.SECTIONS]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    first_screen = text.split("## Alerts\n", 1)[0]
    assert "The knee is step 1: 10 users, 15 req/s" in first_screen
    assert "**SlowAPI** fired at step 2 (20 users, 28 req/s achieved, 187% of capacity), 35 s into the step: " \
           "fires 35 s after users felt the breach of the latency SLO: late." in first_screen
    assert "Silent through the ramp (1): ServiceDown." in first_screen
    srcs = images_of(page.read_text())
    assert srcs == ["capacity-latency.png", "capacity-alerts.png", "capacity-resources.png"]
    assert all((tmp_path / s).stat().st_size > 1000 for s in srcs)
