"""One browser journey: a fresh context whose same-origin API calls are recorded, traced for artifacts.

Every `/api/*` call the page makes is kept with the X-Request-ID the browser sent, the one the
backend echoed, the status and the `sentry-trace` header: the shared identity the signal tests
look up in the log, Spotlight and Mixpanel. A Playwright trace (with screenshots) is recorded for
every journey and written to e2e/artifacts/<journey>/ only when one of its tests failed.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Response

# Every Content-Security-Policy violation of any page or frame of a journey is written to the console
# (Chromium's own CSP messages are not console API calls, so Playwright would not see them).
CSP_VIOLATION_PREFIX = "[e2e] CSP violation "
CSP_RECORDER = """(() => {
  const report = (e) => console.error('%s' + JSON.stringify({
    directive: e.violatedDirective, blocked: e.blockedURI, document: e.documentURI,
    source: e.sourceFile, line: e.lineNumber, sample: e.sample, disposition: e.disposition }));
  addEventListener('securitypolicyviolation', report, true);
})();""" % CSP_VIOLATION_PREFIX

# Violations seen by every journey of the session, and how many documents were watched (a positive control).
CSP_VIOLATIONS: list[str] = []
CSP_WATCHED_DOCUMENTS: list[str] = []

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def route_template(path: str) -> str:
    """The backend's route template for a raw API path (what the access log and metrics carry)."""
    path = path.split("?", 1)[0]
    path = re.sub(rf"^/api/projects/{UUID}", "/api/projects/{project_id}", path)
    return re.sub(rf"^/api/tasks/{UUID}", "/api/tasks/{task_id}", path)


@dataclass
class ApiCall:
    method: str
    path: str  # with the query string
    status: int | None
    sent_request_id: str | None
    echoed_request_id: str | None
    sentry_trace: str | None

    @property
    def route(self) -> str:
        return route_template(self.path)

    @property
    def trace_id(self) -> str | None:
        return self.sentry_trace.split("-", 1)[0] if self.sentry_trace else None


@dataclass
class BrowserJourney:
    name: str
    browser: Browser
    frontend_url: str
    artifacts_root: Path
    calls: list[ApiCall] = field(default_factory=list)
    context: BrowserContext | None = None
    page: Page | None = None
    last_screenshot: bytes | None = None

    def start(self) -> Page:
        self.context = self.browser.new_context(base_url=self.frontend_url)
        self.context.set_default_timeout(15_000)
        self.context.tracing.start(title=self.name, screenshots=True, snapshots=True)
        self.context.add_init_script(CSP_RECORDER)
        self.page = self.context.new_page()
        self.page.on("response", self._record)
        self.page.on("console", self._record_console)
        self.page.on("framenavigated", lambda frame: CSP_WATCHED_DOCUMENTS.append(f"{self.name}: {frame.url}"))
        return self.page

    def _record_console(self, message) -> None:  # noqa: ANN001 - playwright ConsoleMessage
        # Our recorder's line, or Chromium's own console message about a violation.
        if message.text.startswith(CSP_VIOLATION_PREFIX) or "Content Security Policy" in message.text:
            CSP_VIOLATIONS.append(f"{self.name}: {message.text}")

    def _record(self, response: Response) -> None:
        url = urlsplit(response.url)
        if f"{url.scheme}://{url.netloc}" != self.frontend_url or not url.path.startswith("/api/"):
            return
        if url.path == "/api/metrics":
            return
        request = response.request
        self.calls.append(ApiCall(
            method=request.method,
            path=url.path + (f"?{url.query}" if url.query else ""),
            status=response.status,
            sent_request_id=request.headers.get("x-request-id"),
            echoed_request_id=response.headers.get("x-request-id"),
            sentry_trace=request.headers.get("sentry-trace"),
        ))

    def screenshot(self) -> None:
        """Keep the current screen in memory (written out only if a test of this journey fails)."""
        if self.page is not None and not self.page.is_closed():
            try:
                self.last_screenshot = self.page.screenshot(full_page=True)
            except Exception:  # the page may be mid-navigation or crashed: the trace still has frames
                pass

    def calls_to(self, method: str, route: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method and c.route == route]

    def one_call(self, method: str, route: str, status: int | None = None) -> ApiCall:
        found = [c for c in self.calls_to(method, route) if status is None or c.status == status]
        assert len(found) == 1, f"expected one {method} {route} (status {status}), got {found}"
        return found[0]

    def finish(self, keep: bool) -> Path | None:
        """Close the context; with keep=True write trace.zip and screenshot.png, return their folder."""
        out = self.artifacts_root / self.name
        if self.context is None:
            return None
        try:
            if keep:
                out.mkdir(parents=True, exist_ok=True)
                if self.last_screenshot is None:
                    self.screenshot()
                if self.last_screenshot is not None:
                    (out / "screenshot.png").write_bytes(self.last_screenshot)
                self.context.tracing.stop(path=out / "trace.zip")
            else:
                self.context.tracing.stop()
                shutil.rmtree(out, ignore_errors=True)
        finally:
            self.context.close()
        return out if keep else None
