import webperf.__main__ as cli


def test_a_transient_lighthouse_error_is_run_once_more_and_other_errors_stay(monkeypatch) -> None:
    plan = [{"key": k} for k in ("a", "b", "c")]
    calls = []

    def fake_run(runs, dump_dir):  # noqa: ANN001, ANN202, ARG001
        calls.append([r["key"] for r in runs])
        if len(calls) == 1:
            return [{"key": "a", "score": 0.9},
                    {"key": "b", "error": "NO_NAVSTART: Something went wrong ... Please run Lighthouse again."},
                    {"key": "c", "error": "PROTOCOL_TIMEOUT: Waiting for DevTools protocol response"}]
        return [{"key": "b", "score": 0.95}]

    monkeypatch.setattr(cli, "run_lighthouse", fake_run)
    results, retried = cli.run_lighthouse_retrying_transient(plan, None)
    assert calls == [["a", "b", "c"], ["b"]] and retried == 1
    assert sorted((r["key"], "error" in r) for r in results) == [("a", False), ("b", False), ("c", True)]
