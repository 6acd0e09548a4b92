"""The backend's layering, read from its imports (module level and inside functions alike):
app/core imports no feature, features never import the composition or the entry point, and no
module takes part in an import cycle.

import-linter checks the contracts in pyproject.toml ([tool.importlinter]; `lint-imports` from
backend/ prints the same report). Its acyclic_siblings contract finds cycles between the modules of
one package; the strict check below also covers a package and its own submodules, with grimp's
import graph (the library import-linter builds on)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import grimp
from importlinter.cli import lint_imports

BACKEND_DIR = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "bench")


def test_import_contracts_are_kept(capsys, monkeypatch):
    monkeypatch.chdir(BACKEND_DIR)
    # lint_imports configures logging with disable_existing_loggers: every stdlib logger that
    # exists by then (app.billing.provider, app.core.redis, ...) would stay silent for the later tests
    existing = {name: lg.disabled for name, lg in logging.root.manager.loggerDict.items()
                if isinstance(lg, logging.Logger)}
    try:
        exit_code = lint_imports(config_filename=str(BACKEND_DIR / "pyproject.toml"), no_cache=True, no_logo=True)
    finally:
        for name, disabled in existing.items():
            logging.getLogger(name).disabled = disabled
    report = capsys.readouterr().out
    assert exit_code == 0, report
    assert "3 kept, 0 broken" in report, report


def test_no_module_is_part_of_an_import_cycle(monkeypatch):
    monkeypatch.chdir(BACKEND_DIR)
    monkeypatch.syspath_prepend(os.fspath(BACKEND_DIR))
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                cycles.append(" -> ".join((module, *back)))
    assert not cycles, "import cycles:\n" + "\n".join(cycles)
