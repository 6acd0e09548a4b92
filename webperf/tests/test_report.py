from webperf.firstload import FirstLoad
from webperf.report import Key, lighthouse_table, medians, target_lines, targets


def run(variant: str, page: str, ff: str, score: float, tbt: float) -> dict:
    return {"variant": variant, "page": page, "formFactor": ff, "score": score, "tbt": tbt, "lcp": 1000.0,
            "fcp": 800.0, "cls": 0.0}


def test_medians_per_variant_page_and_form_factor_skip_failed_runs() -> None:
    runs = [run("s", "/", "mobile", s, t) for s, t in ((0.9, 300), (0.97, 100), (0.95, 200))]
    runs.append({"variant": "s", "page": "/", "formFactor": "mobile", "error": "boom"})
    med = medians(runs)
    assert med[Key("s", "/", "mobile")]["score"] == 0.95
    assert med[Key("s", "/", "mobile")]["tbt"] == 200
    assert med[Key("s", "/", "mobile")]["runs"] == 3


def loads(sentry_kb: float) -> dict:
    with_ = FirstLoad(raw=500_000, gzip=int(100 * 1024 + sentry_kb * 1024), gzip_by_package={"@sentry/core": sentry_kb * 1024},
                      raw_by_package={"@sentry/core": 90_000})
    without = FirstLoad(raw=300_000, gzip=100 * 1024, gzip_by_package={}, raw_by_package={})
    return {("s", "/"): with_, ("n", "/"): without}


def test_targets_pass_and_fail_on_each_threshold() -> None:
    good = medians([run("s", "/", "mobile", 0.96, 150), run("n", "/", "mobile", 0.99, 100)])
    assert all(t.passed for t in targets(good, loads(35), ["/"], "s", "n"))
    slow = medians([run("s", "/", "mobile", 0.94, 160), run("n", "/", "mobile", 0.99, 100)])
    failed = [t.name for t in targets(slow, loads(41), ["/"], "s", "n") if not t.passed]
    assert len(failed) == 3, failed
    lines = target_lines(targets(slow, loads(41), ["/"], "s", "n"))
    assert any(line.strip().startswith("FAIL") for line in lines)


def test_table_prints_ratios_side_by_side() -> None:
    med = medians([run("s", "/", "mobile", 0.96, 150), run("n", "/", "mobile", 0.99, 100)])
    table = "\n".join(lighthouse_table(med, ["/"], "s", "n"))
    assert "1.50x" in table and "96 /  99" in table
