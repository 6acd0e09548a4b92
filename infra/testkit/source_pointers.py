"""Stale pointers: paths in code, comments and docs that name no file of the repository.

A pointer is a slash-separated path ending in a file name with an extension (`infra/local/stack.py`,
`docs/contracts.md`, `../README.md`), the module of a `python -m a.b` command, or the target of a
`make <target>` command (a target of the root Makefile). A path is fine when
it names a file relative to the repository root, to an app's folder (backend/, frontend/: their
code calls `app/core/config.py` what the repository calls backend/app/core/config.py), to the citing
file's folder or to the citing file's top-level folder (`tests/test_rules.py` inside loadtests/).
Paths that leave the repository (`../shared/DESIGN.md`), runtime folders (`.data/`, `.next/`,
`node_modules/`, `.venv/`) and URLs are not checked. No maintained linter checks prose for paths
(lychee and markdown-link-check check links only), hence this module.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTENSIONS = "py|md|ts|tsx|mjs|cjs|js|json|yml|yaml|sh|tf|toml|ini|txt|cfg|css|svg|mako"
PATH = re.compile(rf"(?<![\w/.:@~$<{{-])((?:\.\.?/)*(?:[\w.-]+/)+[\w-][\w.-]*\.(?:{EXTENSIONS}))(?![\w/-])")
MODULE = re.compile(r"python3?\s+-m\s+([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+)")
MAKE = re.compile(r"(?:^\s*|`)make ([a-z][\w-]*)")  # a command: in backticks or at a line's start
MAKE_TARGET = re.compile(r"^([a-z][\w-]*):", re.MULTILINE)
APP_ROOTS = ("backend", "frontend")  # the apps name their own files from here: app/core/config.py
RUNTIME = (".data/", ".next/", "node_modules/", ".venv/", ".git/", "test-results/")


def tracked_files(*trees: str) -> list[Path]:
    """The repository's tracked files under the given folders or files (git ls-files)."""
    out = subprocess.run(["git", "ls-files", "--", *trees], cwd=ROOT, check=True, capture_output=True, text=True)
    return [ROOT / line for line in out.stdout.splitlines() if (ROOT / line).is_file()]


def _exists(cited: str, source: Path, root: Path) -> bool | None:
    """True/False for a pointer into the repository; None when it points outside or at runtime data."""
    relative = source.relative_to(root)
    if cited.startswith(("./", "../")):
        bases = [source.parent]
    else:
        bases = [root, *(root / app for app in APP_ROOTS), source.parent]
        if len(relative.parts) > 1:
            bases.append(root / relative.parts[0])
    for base in bases:
        target = (base / cited).resolve()
        if not target.is_relative_to(root):
            if base == source.parent:
                return None
            continue
        if any(part in str(target.relative_to(root)) + "/" for part in RUNTIME):
            return None
        if target.exists():
            return True
    return False


def _module_exists(module: str, root: Path) -> bool:
    """A module of the standard library, or a file of the repository run from the root or a top-level
    folder (`cd backend && python -m bench.run`)."""
    parts = module.split(".")
    if parts[0] in sys.stdlib_module_names:
        return True
    for base in [root, *(folder for folder in root.iterdir() if folder.is_dir())]:
        path = base.joinpath(*parts)
        if path.with_suffix(".py").is_file() or (path / "__main__.py").is_file():
            return True
    return False


def stale_pointers(files: Iterable[Path], root: Path = ROOT) -> list[str]:
    """`file:line: pointer` for every pointer in the files that names nothing in the repository."""
    makefile = root / "Makefile"
    targets = set(MAKE_TARGET.findall(makefile.read_text())) if makefile.is_file() else set()
    stale = []
    for source in files:
        try:
            text = source.read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            where = f"{source.relative_to(root)}:{number}"
            for cited in PATH.findall(line):
                if _exists(cited, source, root) is False:
                    stale.append(f"{where}: {cited}")
            for module in MODULE.findall(line):
                if not _module_exists(module, root):
                    stale.append(f"{where}: python -m {module}")
            if source.name != "Makefile":
                for target in MAKE.findall(line):
                    if target not in targets:
                        stale.append(f"{where}: make {target}")
    return stale
