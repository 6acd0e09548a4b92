"""Every file the backend's code and comments point at exists (`app/core/config.py` from backend/,
`docs/contracts.md` from the repository root): the repository's one checker,
infra/testkit/source_pointers.py, over the backend's Python sources."""

from __future__ import annotations

from infra.testkit.source_pointers import stale_pointers, tracked_files


def test_every_cited_file_exists():
    stale = stale_pointers(f for f in tracked_files("backend") if f.suffix == ".py")
    assert not stale, "pointers to files that do not exist:\n" + "\n".join(stale)
