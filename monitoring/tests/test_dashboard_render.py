"""Live: every panel of the committed dashboards drawn from a real Prometheus, opened in Chromium.

A Prometheus on a free port scrapes itself every second, so a few panels (scrape targets,
scrape duration) have data and the backend's panels have none: both kinds are checked.
"""

from __future__ import annotations

import os
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monitoring.dashboards.layout import parse_dashboard, resolve_dashboard, TimeRange
from monitoring.dashboards.queries import load_dashboards
from monitoring.dashboards.render import PALETTE, html_page, render_dashboards, run_query
from infra.local.polling import http_ok
from infra.testkit import Process, free_port, wait_until
from infra.testkit.clients import Prometheus

pytestmark = pytest.mark.live
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SELF_SCRAPED = {"Scrape targets up", "Scrape duration"}  # must have data with only Prometheus scraped
BACKEND_ONLY = {"Requests per second by route", "Latency p50 / p95 / p99", "Connection pool"}  # must be empty


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    work = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    config = work / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                      "scrape_configs:\n  - job_name: prometheus\n"
                      f"    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n")
    proc = Process.start("prometheus", ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={work / 'tsdb'}",
                                        f"--web.listen-address=127.0.0.1:{port}"], log=work / "prometheus.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(f"{url}/-/ready"), 30, what="prometheus ready")
        started = time.time()
        # $__rate_interval is 4 s at a 1 s scrape: ten scrapes give every rate() panel a line, not a dot.
        prom = Prometheus(url)
        wait_until(lambda: prom.query("count_over_time(up[1m]) >= 10"), 30, what="ten scrapes")
        yield url, started
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def rendered(prometheus, tmp_path_factory):
    url, started = prometheus
    out = tmp_path_factory.mktemp("dashboards")
    end = time.time() - 2  # every sample up to `end` is stored by now: a second query sees the same
    return out, render_dashboards(url, started - 5, end, out), (started - 5, end)


def _blue_pixels(path: Path) -> int:
    """Pixels of the first series' blue (PALETTE[0], also anti-aliased): no text, frame or grid is blue."""
    assert PALETTE[0] == "#1f77b4"
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(((b > r + 60) & (b > g + 20)).sum())


def test_every_panel_is_an_image_and_empty_ones_are_named(prometheus, rendered):
    url, _ = prometheus
    out, images, (start, end) = rendered
    panels = [(d["title"], p.title) for d in load_dashboards().values() for p in parse_dashboard(d).panels]
    assert [(i.dashboard, i.panel) for i in images] == panels
    by_title = {i.panel: i for i in images}
    assert all(by_title[t].had_data for t in SELF_SCRAPED)
    assert not any(by_title[t].had_data for t in BACKEND_ONLY)

    resolved = {(d["title"], r.panel.title): r for d in load_dashboards().values()
                for r in resolve_dashboard(parse_dashboard(d), TimeRange(start, end), 1.0)}
    for image in images:
        assert image.path.read_bytes()[:8] == PNG_SIGNATURE, image.path
        with Image.open(image.path) as png:
            png.verify()
        with Image.open(image.path) as png:
            description, title = png.text["Description"], png.text["Title"]
        assert title == image.panel
        queries = resolved[(image.dashboard, image.panel)].queries
        # had_data agrees with Prometheus asked again for the same queries
        assert image.had_data == any(run_query(url, q, TimeRange(start, end)).has_data for q in queries)
        if image.had_data:
            assert "series" in description and _blue_pixels(image.path) > 50, image.panel
        else:
            assert all(f"no data: {q.expr}" in description for q in queries), description
            assert _blue_pixels(image.path) == 0, image.panel

    for uid in load_dashboards():
        with Image.open(out / f"{uid}.png") as whole:
            assert whole.size[0] == 24 * 75 and whole.size[1] > 1000


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


def test_html_page_references_every_image_and_chromium_loads_them(rendered):
    from playwright.sync_api import sync_playwright

    out, images, _ = rendered
    page_path = html_page(out)
    parser = _Images()
    parser.feed(page_path.read_text())
    assert sorted(parser.sources) == sorted(i.path.relative_to(out).as_posix() for i in images)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("requestfailed", lambda req: errors.append(req.url))
            page.goto(page_path.resolve().as_uri())
            page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=20_000)
            loaded = page.evaluate("Array.from(document.images).map(i => [i.getAttribute('src'), i.naturalWidth])")
            boxes = page.evaluate("Array.from(document.querySelectorAll('figure')).map(f => {"
                                  "const r = f.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })")
        finally:
            browser.close()
    assert not errors
    assert len(loaded) == len(images) and all(width > 0 for _, width in loaded), loaded
    # laid out as the grid: a half-width panel is about half the page, two of them side by side
    widths = sorted({round(w) for _, _, w, _ in boxes})
    assert len(widths) >= 2 and abs(widths[-1] / widths[0] - 2) < 0.1
    assert len({round(y) for _, y, _, _ in boxes}) < len(boxes)
