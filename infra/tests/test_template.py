"""The template (copier.yml) renders a renamed product whose generators and tests pass, and
`copier update` brings a later template change into it (`make test-template`, part of `make test`).

One render with non-default answers (another name, 99.5% availability and 98% latency SLOs, other
Slack channels, business days, hours and time zone, another service label, port block +100, no
fault routes) into a
temporary folder, from a temporary clone of this repository at its current state (committed and
uncommitted tracked files). Then, in the rendered project:
- `git grep -i <template name>` finds exactly one line, the README's attribution line: any other
  occurrence is a name that bypasses product.toml (see the failure message);
- its generators reproduce its committed outputs (monitoring.generate, infra.k8s.generate and
  infra.product_files, each `--check`) and the answers are in them (burn-rate thresholds of a
  0.5% budget, channels, hours, ports, dashboard SLO lines);
- its offline monitoring suite passes: promtool check/test of the rules (the production profile's
  unit tests, generated from the 99.5%/98% objectives), amtool routing, "every alert has a test",
  dashboards, runbooks and the drift checks (the fast profile's unit tests are the same cases at
  1/20 of the time scale and run in this repository's own `make test-monitoring`);
- a subset of its backend suite passes against real PostgreSQL and Redis (BACKEND_SUBSET below:
  the demo product's sign-up/login, funnel (projects, tasks, upgrade, outbox events) and billing,
  migrations onto its own database name, the API title and the trusted-proxy header through a real
  gunicorn, the access log's logger name; not schemathesis, which alone takes a minute);
- without fault routes (keep_fault_routes = false), the tests that inject faults through /_faults
  (marker needs_fault_routes, infra/testkit/fault_routes.py) are skipped with the reason in every
  suite, and the load harness and the alert tuner say so and exit 0 (no stack is started).
Then a commit to the template clone (a threshold of the rule catalogue and a README line) and a
commit of the product's own (a docs line) meet in `copier update`: both survive, the answers too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra import product as product_module
from infra.product_files import ATTRIBUTION_MARKER
from infra.testkit import fault_routes

ROOT = Path(__file__).resolve().parents[2]
COPIER_YML = ROOT / "copier.yml"
pytestmark = pytest.mark.skipif(not COPIER_YML.exists(), reason="not the template (a product rendered from it)")

ANSWERS = {
    "product_name": "Acme Ledger", "product_slug": "acmeledger", "service_label": "ledger-api",
    "slo_availability_percent": 99.5, "slo_latency_percent": 98.0,
    "business_days": "tuesday:saturday", "business_hours_start": "08:30", "business_hours_end": "17:00",
    "time_zone": "America/New_York", "slack_alerts_channel": "#ledger-alerts",
    "slack_engineering_channel": "#ledger-eng", "port_offset": 100, "keep_fault_routes": False,
}
MONITORING_OFFLINE = ["monitoring/tests/test_alert_test_coverage.py", "monitoring/tests/test_alertmanager.py",
                      "monitoring/tests/test_dashboard_layout.py", "monitoring/tests/test_dashboards.py",
                      "monitoring/tests/test_generated.py", "monitoring/tests/test_promtool.py",
                      "monitoring/tests/test_runbooks.py"]
BACKEND_SUBSET = ["tests/test_auth.py", "tests/test_funnel.py", "tests/test_billing.py", "tests/test_migrations.py",
                  "tests/test_security.py::test_production_serves_no_api_docs",
                  "tests/test_security.py::test_forwarded_for_counts_only_from_the_trusted_proxy",
                  "tests/test_observability.py::test_exactly_one_access_line_per_request"]
# The files whose tests inject faults (marker needs_fault_routes), per pytest run in the project.
FAULT_TESTS = {
    "backend": {"tests/test_faults.py", "tests/test_gunicorn_metrics.py", "tests/test_log_correlation.py",
                "tests/test_observability.py", "tests/test_rum_beacons.py", "tests/test_security.py",
                "tests/test_trace_spans.py"},
    ".": {"loadtests/tests/test_selfcheck_live.py", "monitoring/tests/test_live_dashboards.py",
          "e2e/test_3_backend_failure_journey.py", "e2e/test_5_no_pii_anywhere.py",
          "e2e/test_7_browser_error_alert_journey.py"},
}
SKIPPED_RE = re.compile(r"^SKIPPED \[\d+\] (?:\.\./)?([^:]+)(?::\d+)?: (.*)$", re.M)


def template_defaults() -> dict:
    return {k: v.get("default") for k, v in yaml.safe_load(COPIER_YML.read_text()).items()
            if not k.startswith("_") and isinstance(v, dict)}


TEMPLATE_NAME = template_defaults()["template_name"] if COPIER_YML.exists() else ""


def run(args: list[str], cwd: Path, timeout: float = 300, env: dict | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, **(env or {})})
    if check:
        assert result.returncode == 0, f"{' '.join(map(str, args))} in {cwd}:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    return result


def git(cwd: Path, *args: str) -> str:
    return run(["git", "-c", "user.name=template test", "-c", "user.email=template@example.test",
                "-c", "commit.gpgsign=false", *args], cwd).stdout.strip()


def copier(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    # copier's own interpreter runs the tasks ({{ _copier_python }}): this venv, with the generators' packages.
    # The tasks import the rendered project's packages (cwd), never this repository's.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PRODUCT_DEFINITION")}
    result = subprocess.run([sys.executable, "-m", "copier", *args], cwd=cwd, capture_output=True, text=True,
                            timeout=300, env=env)
    if check:
        assert result.returncode == 0, f"copier {' '.join(args)}:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    return result


def in_project(project: Path, args: list[str], cwd: Path | None = None, timeout: float = 300):
    env = {"PYTHONPATH": str(project)}
    return run(args, cwd or project, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A clone of this repository at its current state, on branch `main` (copier's --vcs-ref)."""
    src = tmp_path_factory.mktemp("template") / "src"
    state = git(ROOT, "stash", "create") or git(ROOT, "rev-parse", "HEAD")  # tracked edits included
    run(["git", "clone", "--quiet", "--shared", "--no-checkout", str(ROOT), str(src)], ROOT)
    git(src, "checkout", "--quiet", "-B", "main", state)
    return src


@pytest.fixture(scope="module")
def project(template, tmp_path_factory) -> Path:
    dst = tmp_path_factory.mktemp("rendered") / "acmeledger"
    answers = tmp_path_factory.mktemp("answers") / "answers.yml"
    answers.write_text(yaml.safe_dump(ANSWERS))
    copier(template.parent, "copy", "--trust", "--defaults", "--data-file", str(answers), "--vcs-ref", "main",
           str(template), str(dst))
    git(dst, "init", "--quiet", "-b", "main")
    git(dst, "add", "-A")
    git(dst, "commit", "--quiet", "-m", "Acme Ledger from the template")
    (dst / ".venv").symlink_to(ROOT / ".venv")  # the suites' tools (gunicorn, alembic) from this repository's venv
    with (dst / ".git/info/exclude").open("a") as exclude:
        exclude.write(".venv\n")
    return dst


def test_only_the_attribution_line_names_the_template(project):
    found = run(["git", "grep", "-n", "-i", TEMPLATE_NAME], project, check=False).stdout.splitlines()
    others = [line for line in found if ATTRIBUTION_MARKER.split()[0] not in line and "copier update" not in line]
    assert len(found) == 1 and found[0].startswith("README.md:") and "copier update --trust" in found[0] and not others, (
        f"the rendered product still says {TEMPLATE_NAME!r} here:\n" + "\n".join(found) +
        "\nCode reads the name from infra.product.PRODUCT (Python), app.core.product (backend) or "
        "frontend/lib/product.ts; prose and hand-written config matching infra/product_files.RENAMED are renamed "
        "by copier's task; a generic name (no product at all) is often the better fix.")


def test_answers_are_the_product_definition_and_the_answers_file(project):
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert {k: answers[k] for k in ANSWERS} == ANSWERS and answers["_commit"]
    p = product_module.load(project / "product.toml")
    assert (p.name, p.slug, p.service, p.availability_objective, p.latency_objective, p.port(8000),
            p.keep_fault_routes) == ("Acme Ledger", "acmeledger", "ledger-api", 0.995, 0.98, 8100, False)


def test_generators_reproduce_the_committed_outputs(project):
    for module in ("monitoring.generate", "infra.k8s.generate", "infra.product_files"):
        in_project(project, [sys.executable, "-m", module, "--check"])
    assert not run(["git", "status", "--porcelain"], project).stdout.strip()


def test_answers_reach_rules_routing_dashboards_ports_and_names(project):
    rules = (project / "monitoring/prometheus/rules/production/app.rules.yml").read_text()
    assert "vector(0.995)" in rules and "/ 0.005 > 14.4" in rules and "vector(0.98)" in rules and "/ 0.02 > 14.4" in rules
    assert "name: acmeledger-slo" in rules and "https://github.com/acmeledger/acmeledger/blob/main/monitoring/runbooks/" in rules
    am = yaml.safe_load((project / "monitoring/alertmanager/alertmanager.yml").read_text())
    channels = {c["channel"] for r in am["receivers"] for c in r.get("slack_configs", [])}
    assert channels == {"#ledger-alerts", "#ledger-eng"}
    assert am["time_intervals"][0]["time_intervals"] == [{"weekdays": ["tuesday:saturday"], "location": "America/New_York",
                                                          "times": [{"start_time": "08:30", "end_time": "17:00"}]}]
    prom = yaml.safe_load((project / "monitoring/prometheus/prometheus.yml").read_text())
    backend = next(c for c in prom["scrape_configs"] if c["job_name"] == "backend")["static_configs"][0]
    assert backend == {"targets": ["127.0.0.1:8101"], "labels": {"service": "ledger-api"}}
    slo = (project / "monitoring/grafana/dashboards" / "acmeledger-slo.json").read_text()
    assert '"title": "Acme Ledger SLOs"' in slo and '"value": 0.005' in slo and '"value": 0.02' in slo
    assert 'NAME = "Acme Ledger"' in (project / "backend/app/core/product.py").read_text()
    readme = (project / "README.md").read_text()
    assert "# Acme Ledger" in readme.splitlines()[0]
    # the documented URLs are the product's port block: the API at 8100, the app at 3100
    assert "127.0.0.1:8100" in readme and "127.0.0.1:3100" in readme and "127.0.0.1:8000" not in readme
    assert "127.0.0.1:5432" in readme  # the machine's PostgreSQL is no port of the block
    assert "pagerduty_service.product" in (project / "infra/pagerduty/outputs.tf").read_text()
    sentry = (project / "infra/sentry/main.tf").read_text()
    assert 'target_identifier = "#ledger-alerts"' in sentry and 'channel   = "#ledger-eng"' in sentry
    # the rendered promtool tests check the 99.5% budget: 20x burn = 10% errors pages
    page = (project / "monitoring/prometheus/tests/production/AvailabilityBudgetBurnPage.test.yml").read_text()
    assert "values: 0+6x89" in page and "burning 20.0x" in page


def test_rendered_monitoring_suite_passes(project):
    in_project(project, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *MONITORING_OFFLINE,
                         "-k", "not test_unit_tests_pass_in_both_profiles"])
    tests = sorted(str(p.relative_to(project / "monitoring/prometheus"))
                   for p in (project / "monitoring/prometheus/tests/production").glob("*.test.yml"))
    in_project(project, ["promtool", "test", "rules", *tests], cwd=project / "monitoring/prometheus")


def test_rendered_backend_subset_passes(project):
    in_project(project, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not fuzz",
                         *BACKEND_SUBSET], cwd=project / "backend", timeout=400)


def test_without_fault_routes_the_fault_tests_and_runs_are_skipped(project):
    assert "FAULT_ROUTES = False" in (project / "backend/app/core/product.py").read_text()
    # only the marked tests, so nothing here needs a database or a stack (a skip is decided before any
    # fixture); the plugins none of them uses are left out (about 3 s of imports per run)
    lean = ["-p", "no:cacheprovider", "-p", "no:locust", "-p", "no:schemathesis", "-p", "no:hypothesispytest"]
    runs = {"backend": [*lean, "-p", "no:playwright"],
            # one session: e2e/pytest.ini, the only configuration file among these folders, is its own
            ".": [*lean, "loadtests/tests", "monitoring/tests", "e2e"]}
    for folder, args in runs.items():
        out = in_project(project, [sys.executable, "-m", "pytest", "-rs", "-m", "needs_fault_routes", *args],
                         cwd=project / folder).stdout
        summary = out.strip().splitlines()[-1]
        assert re.fullmatch(r"=*\s*\d+ skipped, \d+ deselected(, \d+ warnings?)? in [\d.]+s\s*=*", summary), out[-3000:]
        # (a test skipped for another reason first, e.g. Spotlight not installed, says that reason)
        skipped = {path for path, reason in SKIPPED_RE.findall(out) if reason == fault_routes.REASON}
        assert skipped == FAULT_TESTS[folder], out[-3000:]
    runs = in_project(project, [sys.executable, "-c", "import sys; from loadtests import harness, tune; "
                                "sys.exit(harness.main(['--short']) or tune.main([]))"])
    assert runs.stdout.count(f"skipped: {fault_routes.REASON}") == 2, runs.stdout + runs.stderr


def test_copier_update_brings_a_template_change_and_keeps_the_products_own(template, project):
    # the product's own change, committed
    onboarding = project / "docs/onboarding.md"
    onboarding.write_text(onboarding.read_text() + "\nAcme Ledger's own note: on-call starts at 08:30 New York time.\n")
    git(project, "commit", "--quiet", "-am", "our own onboarding note")
    # a template improvement, committed in the template clone
    catalogue = template / "monitoring/rules/catalogue.py"
    text = catalogue.read_text()
    assert "ERROR_RATIO_THRESHOLD = 0.05\n" in text
    catalogue.write_text(text.replace("ERROR_RATIO_THRESHOLD = 0.05\n", "ERROR_RATIO_THRESHOLD = 0.04\n"))
    readme = template / "README.md"
    readme.write_text(readme.read_text() + "\nA template improvement: this line came with `copier update`.\n")
    git(template, "commit", "--quiet", "-am", "template: HighErrorRate at 4%, a README line")

    copier(project, "update", "--trust", "--defaults", "--vcs-ref", "main")
    status = run(["git", "status", "--porcelain"], project).stdout
    assert ".rej" not in status and "<<<<<<<" not in run(["git", "diff"], project).stdout, status
    rules = (project / "monitoring/prometheus/rules/production/app.rules.yml").read_text()
    assert "service:http_requests_error:ratio_rate5m > 0.04" in rules  # the template's change, regenerated
    assert "/ 0.005 > 14.4" in rules  # the product's answers kept
    assert "this line came with `copier update`" in (project / "README.md").read_text()
    assert "Acme Ledger's own note" in onboarding.read_text()
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "copier update")
    for module in ("monitoring.generate", "infra.k8s.generate", "infra.product_files"):
        in_project(project, [sys.executable, "-m", module, "--check"])
    found = run(["git", "grep", "-n", "-i", TEMPLATE_NAME], project, check=False).stdout.splitlines()
    assert len(found) == 1, found


@pytest.mark.parametrize(("answer", "value", "why"), [
    ("slo_availability_percent", 100, "outside 0-100%"),
    ("product_slug", "Acme-Ledger", "not a valid identifier"),
    ("port_offset", 1, "collides with the template's own ports"),
])
def test_invalid_answers_are_refused_with_the_reason(template, tmp_path, answer, value, why):
    result = copier(tmp_path, "copy", "--trust", "--defaults", "--data", f"{answer}={value}", "--vcs-ref", "main",
                    str(template), str(tmp_path / "refused"), check=False)
    assert result.returncode != 0 and why in result.stderr + result.stdout, result.stderr[-3000:]
    assert not (tmp_path / "refused").exists()
    key = {"slo_availability_percent": "availability_percent", "product_slug": "slug"}.get(answer, answer)
    assert product_module.problems({**tomllib_values(), key: value})  # infra/product.py refuses it too


def tomllib_values() -> dict:
    import tomllib

    data = tomllib.loads((ROOT / "product.toml").read_text())
    flat = {k: v for k, v in data.items() if not isinstance(v, dict)}
    for section in data.values():
        if isinstance(section, dict):
            flat.update(section)
    return flat
