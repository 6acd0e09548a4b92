"""The capacity ramp's judgement on synthetic steps (< 1 s): knee, saturation, alert verdicts."""

from __future__ import annotations

from loadtests import capacity_analysis as ca


def step(i: int, users: int, rps: float, slow: float, errors: float, cpu: float = 0.5, pool: float = 0.1) -> ca.Step:
    return ca.Step(i, users, start=100.0 * i, end=100.0 * (i + 1), window_start=100.0 * i + 8, achieved_rps=rps,
                   slow_ratio=slow, error_ratio=errors,
                   resources={"backend_cpu_per_worker": cpu, "db_pool_utilisation_max": pool})


RAMP = [step(0, 10, 15, 0.0, 0.0, 0.2), step(1, 20, 30, 0.001, 0.0, 0.4), step(2, 40, 58, 0.004, 0.0, 0.8),
        step(3, 60, 70, 0.05, 0.0, 0.99), step(4, 80, 71, 0.3, 0.002, 1.0)]


def test_knee_is_the_last_step_before_the_first_breach():
    assert ca.knee(RAMP).index == 2
    assert ca.first_breach(RAMP).index == 3
    assert ca.first_breach(RAMP).breach() == "latency"
    assert ca.saturating_breach(RAMP).index == 3 and not ca.transient_breaches(RAMP)
    # a breach below a step that kept the SLOs is transient (someone else's burst): the knee is above it
    noisy = [RAMP[0], step(1, 20, 30, 0.03, 0.0), *RAMP[2:]]
    assert ca.knee(noisy).index == 2 and ca.first_breach(noisy).index == 1
    assert [s.index for s in ca.transient_breaches(noisy)] == [1] and ca.saturating_breach(noisy).index == 3
    assert "step 2 below it broke an SLO for a while" in ca.answer(noisy, ca.saturation(noisy, {}))


def test_no_data_is_not_a_kept_slo():
    s = step(0, 10, 15, 0.0, 0.0)
    s.slow_ratio = None
    assert not s.slo_ok and "no data" in s.breach()
    assert ca.knee([s]) is None


def test_saturation_ranks_resources_at_the_breach():
    sat = ca.saturation(RAMP, {})
    assert sat[0].resource == "backend_cpu_per_worker"
    assert sat[0].at_knee == 0.8 and sat[0].at_breach == 0.99
    assert "what saturated first: the backend's event loops: 0.99 of a core per worker" in ca.answer(RAMP, sat)


def test_a_full_pool_with_an_idle_database_on_a_busy_machine_is_a_cpu_symptom():
    ramp = [step(0, 10, 15, 0.0, 0.0, 0.05), step(1, 80, 100, 0.0, 0.0, 0.24, 0.67), step(2, 100, 100, 0.09, 0.0, 0.25, 0.93)]
    for s in ramp:
        s.resources.update(machine_cpu_busy=0.95, pg_active_max=3)
    what, evidence = ca.diagnosis(ramp)
    assert what.startswith("CPU: the machine was 95% busy") and "filled as a symptom" in what
    ramp[2].resources.update(machine_cpu_busy=0.5, pg_active_max=20)
    assert ca.diagnosis(ramp)[0] == "the DB pool: 93% checked out, PostgreSQL busy (20 active)"


def event(name: str, t_fire: float | None, severity: str = "warning", load: bool = True,
          t_pending: float | None = None) -> ca.AlertEvent:
    return ca.AlertEvent(name, severity, load, t_pending if t_pending is not None else t_fire, t_fire, 0.5)


def test_alert_before_the_breach_near_capacity_is_fine():
    v = ca.judge_alert(event("Sat", 215.0), RAMP)  # step 3 (index 2): 58 req/s = 100% of the knee
    assert v.verdict.endswith("fine") and v.step.index == 2 and v.after_step_start_s == 15.0
    assert v.vs_breach_s == -85.0


def test_alert_far_below_capacity_is_noisy_and_a_page_is_false():
    v = ca.judge_alert(event("Early", 50.0, "critical"), RAMP)  # 15 req/s = 26% of capacity
    assert "noisy" in v.verdict and "false page" in v.verdict


def test_alert_after_the_breach_is_late():
    v = ca.judge_alert(event("SlowAPI", 340.0, "warning"), RAMP)
    assert "late" in v.verdict and v.vs_breach_s == 40.0


def test_silent_load_alert_after_a_breach_has_its_threshold_too_high():
    v = ca.judge_alert(event("SlowAPI", None), RAMP)
    assert v.verdict == "never fires before saturation: threshold too high" and v.state == "silent"
    pending = ca.judge_alert(event("SlowAPI", None, t_pending=410.0), RAMP)
    assert pending.state == "pending only" and "step 5" in pending.sentence


def test_silent_alerts_without_a_breach_or_load_signal_are_not_blamed():
    kept = RAMP[:3]
    assert ca.judge_alert(event("SlowAPI", None), kept).verdict.startswith("not judged")
    assert ca.judge_alert(event("ServiceDown", None, load=False), RAMP).verdict.startswith("not a load signal")


def test_load_signal_classifies_the_real_catalogue():
    from monitoring.profiles import FAST
    from monitoring.rules.catalogue import all_alerts

    load = {a.alert for a in all_alerts(FAST) if ca.LOAD_SIGNAL.search(a.expr)}
    assert {"SlowAPI", "HighErrorRate", "DatabaseConnectionsHigh", "LatencyBudgetBurnPage"} <= load
    assert not load & {"ServiceDown", "CacheErrorsHigh", "AnalyticsBacklog", "NewErrorType"}


def test_alerts_are_judged_against_the_slo_they_guard():
    from monitoring.profiles import FAST
    from monitoring.rules.catalogue import all_alerts

    by_name = {a.alert: ca.guards(a.expr) for a in all_alerts(FAST)}
    assert by_name["HighErrorRate"] == by_name["AvailabilityBudgetBurnPage"] == "availability"
    assert by_name["SlowAPI"] == by_name["LatencyBudgetBurnPage"] == "latency"
    assert by_name["DatabaseConnectionsHigh"] == "any"
    # the latency SLO broke, the availability SLO never did: an error alert is not blamed
    latency_only = [step(0, 10, 15, 0.0, 0.0), step(1, 20, 20, 0.3, 0.0)]
    silent = ca.AlertEvent("HighErrorRate", "critical", True, None, None, 0.0, guards="availability")
    assert ca.judge_alert(silent, latency_only).verdict.startswith("not judged: the availability SLO held")


def test_a_fault_alert_pending_under_load_is_close_to_a_false_page():
    v = ca.judge_alert(event("ServiceDown", None, "critical", load=False, t_pending=310.0), RAMP)
    assert v.verdict == "not a load signal, yet pending under load: close to a false page"
