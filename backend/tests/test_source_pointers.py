"""Every file the backend's code and comments point at exists: a path under app/, bench/ or tests/
(from backend/) or docs/ (from the repository root) that names no file is a stale pointer."""

from __future__ import annotations

import re
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = BACKEND_DIR.parent
POINTER = re.compile(r"(?<![\w/.])(?:\.\./)?((?:app|bench|tests)/[\w/]+\.py|docs/[\w.-]+\.md)")


def _sources() -> list[Path]:
    files = [BACKEND_DIR / "gunicorn_conf.py", *(BACKEND_DIR / "alembic").rglob("*.py")]
    for package in ("app", "bench", "tests"):
        files.extend((BACKEND_DIR / package).rglob("*.py"))
    return sorted(files)


def test_every_cited_file_exists():
    stale = []
    for path in _sources():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for cited in POINTER.findall(line):
                base = REPO_DIR if cited.startswith("docs/") else BACKEND_DIR
                if not (base / cited).is_file():
                    stale.append(f"{path.relative_to(REPO_DIR)}:{number}: {cited}")
    assert not stale, "pointers to files that do not exist:\n" + "\n".join(stale)
