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
