"""The RUM beacons' counters (browser errors, anonymous page views); labels from app/rum/bounds.py only."""

from __future__ import annotations

from prometheus_client import Counter

browser_errors_total = Counter(
    "browser_errors_total", "Uncaught errors in the browser, by error type and page template",
    ["error_type", "page"],
)
page_views_total = Counter(
    "page_views_total", "Page views of the signup funnel's pages (anonymous: no user, session or cookie)", ["page"],
)


def init_funnel_series() -> None:
    """Export page_views_total at 0 for every funnel page from the start, so the funnel and the
    visitor-conversion panels have a series (and a 0) before the first view of a page arrives."""
    from app.rum.bounds import FUNNEL_PAGES  # noqa: PLC0415 - bounds imports nothing of ours

    for page in sorted(FUNNEL_PAGES):
        page_views_total.labels(page=page)
