"""Files a generator owns: compare them with what it produces, or write them (one implementation for
every generator: monitoring/generate.py, infra/k8s/generate.py).

A generator passes what it produces (paths relative to its root -> text) and the folders it owns
entirely: a file there that it no longer produces is stale (reported by `diff`, deleted by `write`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path


def stale_files(expected: dict[str, str], root: Path, owned_dirs: Iterable[str]) -> list[str]:
    return [p.relative_to(root).as_posix() for folder in owned_dirs for p in sorted((root / folder).rglob("*"))
            if p.is_file() and p.relative_to(root).as_posix() not in expected]


def diff(expected: dict[str, str], root: Path, owned_dirs: Iterable[str]) -> list[str]:
    """`missing:`, `differs:` and `stale:` lines; empty when the committed files are the generator's."""
    problems = []
    for rel, content in expected.items():
        path = root / rel
        if not path.exists():
            problems.append(f"missing: {rel}")
        elif path.read_text() != content:
            problems.append(f"differs: {rel}")
    return problems + [f"stale: {rel}" for rel in stale_files(expected, root, owned_dirs)]


def write(expected: dict[str, str], root: Path, owned_dirs: Iterable[str]) -> list[str]:
    """Write what changed and delete what is stale; the paths touched."""
    changed = []
    for rel, content in expected.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
            changed.append(rel)
    for rel in stale_files(expected, root, owned_dirs):
        (root / rel).unlink()
        changed.append(f"{rel} (deleted)")
    return changed


def main(argv: list[str] | None, *, doc: str | None, module: str, label: str,
         diff: Callable[[], list[str]], write: Callable[[], list[str]]) -> int:
    """The generators' command line: write, or `--check` (exit 1 and list what differs)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if committed files differ")
    args = parser.parse_args(argv)
    if args.check:
        problems = diff()
        for line in problems:
            print(line)
        if problems:
            print(f"run: .venv/bin/python -m {module}", file=sys.stderr)
        return 1 if problems else 0
    for rel in write():
        print(f"wrote {label}/{rel}")
    return 0
