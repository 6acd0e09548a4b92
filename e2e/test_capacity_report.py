"""The capacity report a person reads, opened in Chromium.

Runs the short capacity ramp (`python -m loadtests.capacity --short`: its own production-like stack on
free ports and its own data folder, two tiny steps, ~50 s), then checks the report's structure (not
its numbers): the answer first, one sentence or table row per alert of the loaded rules, one row per
step, the plots, and every panel of the committed dashboards as an image; then loads
capacity.html in Chromium: every image loaded (complete, non-zero natural size), every dashboard panel
is an <img> in the page, an empty panel is captioned as empty, and the page logs no error.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page

from loadtests.report_capacity import SECTIONS
from monitoring.dashboards.layout import parse_dashboard
from monitoring.dashboards.queries import load_dashboards
from monitoring.rules.catalogue import all_alerts
from monitoring.profiles import FAST

ROOT = Path(__file__).resolve().parents[1]
RAMP_TIMEOUT_S = 480  # ~50 s alone; generous for a loaded machine (the run bounds itself at --budget)


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("capacity-report")
    env = {**os.environ, "CAPACITY_DATA_DIR": str(ROOT / ".data" / "capacity-e2e")}
    proc = subprocess.run([sys.executable, "-m", "loadtests.capacity", "--short", "--budget", "420",
                           "--report-dir", str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=RAMP_TIMEOUT_S)
    assert proc.returncode == 0, f"capacity --short failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return out


def committed_panels() -> list[tuple[str, str]]:
    out = []
    for raw in load_dashboards().values():
        d = parse_dashboard(raw)
        out += [(d.title, p.title) for p in d.panels]
    return out


def test_capacity_report_structure(report_dir: Path):
    md = (report_dir / "capacity.md").read_text()
    positions = [md.find(s + "\n") for s in SECTIONS]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), f"sections missing or out of order: {positions}"
    answer = md.split("## The answer\n", 1)[1].strip().split("\n\n", 1)[0]
    assert re.match(r"^(The knee is step|Every step kept the SLOs|The first step)", answer), answer
    first_screen = md.split("## Alerts\n", 1)[0]
    for alert in {a.alert for a in all_alerts(FAST)}:
        assert alert in first_screen, f"{alert}: no sentence on the first screen"
    steps = re.findall(r"^\| (\d+) \| (\d+) \|", md.split("## Steps\n", 1)[1].split("## What saturated", 1)[0], re.M)
    assert [int(u) for _, u in steps] == [2, 4], steps
    for png in ("capacity-latency.png", "capacity-alerts.png", "capacity-resources.png"):
        assert f"]({png})" in md and (report_dir / png).stat().st_size > 1000, png
    for dashboard, panel in committed_panels():
        assert f'data-panel="{panel}"'.replace("&", "&amp;").replace(">", "&gt;") in md or f'data-panel="{panel}"' in md, \
            f"{dashboard}: panel {panel!r} is not in the report"
    assert (report_dir / "capacity.json").exists()


def test_capacity_report_opens_in_chromium_with_every_image(report_dir: Path, page: Page):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((report_dir / "capacity.html").as_uri(), wait_until="load")
    images = page.eval_on_selector_all(
        "img", "els => els.map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0}))")
    assert len(images) >= 3 + len(committed_panels())
    broken = [i["src"] for i in images if not i["ok"]]
    assert not broken, f"images that did not load: {broken}"
    shown = page.eval_on_selector_all("figure[data-panel] img", "els => els.length")
    assert shown == len(committed_panels())
    empty = page.eval_on_selector_all("figure.empty figcaption", "els => els.map(e => e.textContent)")
    assert all("empty" in caption for caption in empty)
    assert page.locator("h2", has_text="The answer").count() == 1
    assert not errors, errors
