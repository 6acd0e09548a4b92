"""Every repository path, `python -m` module and `make` target that code, a comment or a doc cites
outside backend/ exists (backend/tests/test_source_pointers.py checks the backend with the same checker)."""

from __future__ import annotations

from infra.testkit.source_pointers import ROOT, stale_pointers, tracked_files

TREES = ("infra", "loadtests", "monitoring", "e2e", "frontend", "docs", "README.md", "Makefile", ".ci",
         "docker-compose.yml")
SKIPPED_FILES = ("package-lock.json",)
CHECKER = ("infra/testkit/source_pointers.py", "infra/tests/test_source_pointers.py")  # their examples
# Paths that are not this repository's: another project's files, a container's, a test's temporary ones.
NOT_OURS = {
    ("docker-compose.yml", "./run.sh"),  # inside the spotlight container's working directory
    ("infra/sentry/README.md", "src/sentry/incidents/serializers/alert_rule.py"),  # getsentry/sentry
    ("monitoring/tests/test_generated.py", "grafana/dashboards/extra.json"),  # written by the test
}


def test_every_cited_path_exists():
    files = [f for f in tracked_files(*TREES) if f.name not in SKIPPED_FILES and f.relative_to(ROOT).as_posix() not in CHECKER]
    stale = [s for s in stale_pointers(files) if (s.split(":")[0], s.split(": ", 1)[1]) not in NOT_OURS]
    assert not stale, "pointers to files that do not exist:\n" + "\n".join(stale)


def test_the_checker_finds_missing_files_modules_and_make_targets(tmp_path):
    (tmp_path / "backend" / "app" / "core").mkdir(parents=True)
    (tmp_path / "backend" / "app" / "core" / "config.py").write_text("")
    (tmp_path / "docs").mkdir()
    source = tmp_path / "docs" / "guide.md"
    source.write_text("see backend/app/core/config.py and [the readme](../README.md),\n"
                      "not backend/app/core/gone.py; `python -m json.tool`, `python -m app.missing`;\n"
                      "https://example.org/src/x/y.py and .data/logs/backend.log are not ours\n"
                      "`make up` starts it, `make upp` does not exist; to make sense of it\n")
    (tmp_path / "README.md").write_text("")
    (tmp_path / "Makefile").write_text("up: ## start\n\t@true\n")
    assert stale_pointers([source], root=tmp_path) == ["docs/guide.md:2: backend/app/core/gone.py",
                                                       "docs/guide.md:2: python -m app.missing",
                                                       "docs/guide.md:4: make upp"]
