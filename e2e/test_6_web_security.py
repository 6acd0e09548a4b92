"""The frontend as an attacker meets it on its public port: one test per finding of the outside review.

- the CSP and the other security headers are on every response, and no journey of the session
  (nor this module's own) reports a CSP violation in Chromium; the app cannot be framed;
- no proxied response names the backend's internal address (`x-middleware-rewrite`);
- `/_spotlight` forwards envelopes of the app and nothing else, and never serves the event stream;
- a body over the backend's limit gets a 413 from the frontend, counted as a 4xx, not a 500;
- frontend spans (Next.js server and browser) carry no secret query value and no e-mail address;
- /api/metrics answers only a loopback scraper (and Prometheus still scrapes it);
- a rotating, spoofed X-Forwarded-For does not get around the login rate limit (runs last: it
  uses up the limit of 127.0.0.1 for this minute, and resets it afterwards).
"""

from __future__ import annotations

import json
import re
import secrets
import time
import zlib
from urllib.parse import quote, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser
from sentry_sdk.envelope import Envelope as SdkEnvelope
from sentry_sdk.envelope import Item, PayloadRef

from support import prometheus
from support.browser import CSP_RECORDER, CSP_VIOLATION_PREFIX, CSP_VIOLATIONS, CSP_WATCHED_DOCUMENTS
from support.canaries import new_email, new_password, variants
from support.frontend_sentry import SAMPLE_EVERYTHING_SCRIPT, attribute, frontend_envelopes, sampled_trace_header, spans
from support.polling import eventually
from support.spotlight import SpotlightCollector
from support.stack import Stack, parse_env_file

FIXED_HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
}
STRICT_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


def _csp(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers.get("content-security-policy", "")
    return {parts[0]: parts[1:] for parts in (d.split() for d in policy.split(";")) if parts}


def _assert_security_headers(response: httpx.Response, what: str) -> None:
    for name, value in FIXED_HEADERS.items():
        assert response.headers.get(name) == value, f"{what}: {name} is {response.headers.get(name)!r}"
    assert response.headers.get("referrer-policy") in STRICT_REFERRER_POLICIES, f"{what}: {response.headers}"
    assert _csp(response).get("frame-ancestors") == ["'none'"], f"{what}: CSP {response.headers.get('content-security-policy')!r}"


# --- security headers and CSP -----------------------------------------------------------------
def test_security_headers_on_every_frontend_response(stack: Stack) -> None:
    f = stack.frontend_url
    with httpx.Client(base_url=f, timeout=10, follow_redirects=False) as client:
        page = client.get("/pricing")
        assert page.status_code == 200
        _assert_security_headers(page, "GET /pricing")
        csp = _csp(page)
        nonce = next((v[len("'nonce-"):-1] for v in csp.get("script-src", []) if v.startswith("'nonce-")), None)
        assert nonce and "'strict-dynamic'" in csp["script-src"], f"script-src {csp.get('script-src')}"
        assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
        scripts = re.findall(r"<script\b[^>]*>", page.text)
        assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts), f"scripts without the nonce: {scripts[:3]}"
        assert client.get("/pricing").headers["content-security-policy"] != page.headers["content-security-policy"], \
            "the nonce must be fresh for every document"
        asset = re.search(r'/_next/static/[^"]+\.js', page.text)
        assert asset, "positive control: the page loads a build asset"
        for path in ["/", "/login", "/api/me", "/api/metrics", asset.group(0), "/no-such-page", "/_spotlight", "/api/projects/"]:
            _assert_security_headers(client.get(path), f"GET {path}")


def test_pricing_cannot_be_framed_by_another_origin(browser: Browser, stack: Stack) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        # A page of another origin (the capture server's address; the browser never asks it) frames
        # the app, and, as a positive control, a page of its own origin.
        framer = f"{stack.capture_url}/framer"
        page.route(framer, lambda route: route.fulfill(content_type="text/html", body=(
            f'<iframe id="app" src="{stack.frontend_url}/pricing"></iframe>'
            f'<iframe id="control" src="{stack.capture_url}/control"></iframe>')))
        page.route(f"{stack.capture_url}/control", lambda route: route.fulfill(content_type="text/html", body="<p>framed</p>"))
        page.goto(framer)

        def settled() -> dict[str, str]:
            urls = {fr.name: fr.url for fr in page.frames if fr != page.main_frame}
            assert urls.get("control", "").endswith("/control"), f"control frame not loaded: {urls}"
            assert urls.get("app") not in (None, "", "about:blank"), f"app frame not settled: {urls}"
            return urls

        urls = eventually(settled, timeout=15, what="both frames to load or be blocked")
        app = page.frame(name="app")
        rendered = app is not None and app.url.startswith(stack.frontend_url) and app.locator("h1").count() > 0
        assert not rendered, f"/pricing rendered inside a frame of another origin: {urls}"
    finally:
        context.close()


def _is_csp_violation(text: str) -> bool:
    # Our recorder's line (support/browser.py), or Chromium's own console message about the same violation.
    return text.startswith(CSP_VIOLATION_PREFIX) or "Content Security Policy" in text


def _browser_journey_violations(browser: Browser, stack: Stack) -> tuple[list[str], list[str]]:
    """Sign up, create a project, open it, visit pricing, log out: every page the app has."""
    violations: list[str] = []
    documents: list[str] = []
    context = browser.new_context(base_url=stack.frontend_url)
    context.add_init_script(CSP_RECORDER)
    # Trace everything in this context, so that the Sentry tunnel, Replay and the span envelopes run too.
    context.add_init_script(SAMPLE_EVERYTHING_SCRIPT)
    try:
        page = context.new_page()
        page.on("console", lambda m: violations.append(m.text) if _is_csp_violation(m.text) else None)
        page.on("framenavigated", lambda fr: documents.append(fr.url))
        page.goto("/")
        page.goto("/signup")
        page.get_by_label("Name", exact=True).fill("Casey Policy")
        page.get_by_label("Email").fill(new_email("e2e-csp"))
        page.get_by_label("Password (8 to 128 characters)").fill(new_password())
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(re.compile(r"/dashboard$"))
        page.get_by_label("Name", exact=True).fill("CSP check")
        page.get_by_role("button", name="Create project").click()
        page.get_by_role("link", name="CSP check").click()
        page.wait_for_url(re.compile(r"/projects/[0-9a-f-]+$"))
        page.get_by_role("heading", name="CSP check").wait_for()
        page.goto("/pricing")
        page.get_by_role("button", name="Upgrade to Pro").wait_for()
        # Positive control: the recorder reports a violation when there is one (an image from another origin).
        page.evaluate(f"() => {{ const i = new Image(); i.src = '{stack.capture_url}/csp-probe.png'; document.body.append(i); }}")
        eventually(lambda: any("csp-probe" in v for v in violations), timeout=10,
                   what=f"the deliberate CSP violation (console so far: {violations})")
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(re.compile(r"/login$"))
    finally:
        context.close()
    return [v for v in violations if "csp-probe" not in v], documents


def test_no_csp_violation_on_any_journey(browser: Browser, stack: Stack) -> None:
    own, documents = _browser_journey_violations(browser, stack)
    assert len(documents) >= 5, f"positive control: the pages were visited ({documents})"
    assert not own, "CSP violations on this module's journey:\n" + "\n".join(own)
    # Every journey of the session (files 1-5) ran with the same recorder (support/browser.py).
    assert not CSP_VIOLATIONS, "CSP violations on the session's journeys:\n" + "\n".join(CSP_VIOLATIONS[:20])
    if CSP_WATCHED_DOCUMENTS:
        assert any("/dashboard" in d for d in CSP_WATCHED_DOCUMENTS), CSP_WATCHED_DOCUMENTS[:10]


# --- the backend's address ---------------------------------------------------------------------
def test_no_proxied_response_names_the_backend(stack: Stack) -> None:
    backend = httpx.URL(stack.backend_url)
    backend_host = f"{backend.host}:{backend.port}"
    with httpx.Client(base_url=stack.frontend_url, timeout=10, follow_redirects=False) as client:
        responses = {
            "GET /api/me": client.get("/api/me"),
            "GET /api/billing/plan": client.get("/api/billing/plan"),
            "POST /api/auth/login": client.post("/api/auth/login", json={"email": "x", "password": "y"}),
            "GET /api/no-such-route": client.get("/api/no-such-route"),
        }
    assert responses["GET /api/me"].headers.get("x-request-id"), "positive control: the backend answered through the proxy"
    for what, response in responses.items():
        internal = {k: v for k, v in response.headers.items() if k.lower().startswith("x-middleware-") or backend_host in v}
        assert not internal, f"{what} names the backend: {internal}"


# --- the Spotlight tunnel ----------------------------------------------------------------------
def test_spotlight_tunnel_forwards_envelopes_only(stack: Stack, spotlight: SpotlightCollector) -> None:
    url = f"{stack.frontend_url}/_spotlight"
    stream = httpx.get(url, headers={"Accept": "text/event-stream"}, timeout=5)
    assert stream.status_code == 405 and "event-stream" not in stream.headers.get("content-type", ""), \
        f"GET /_spotlight: {stream.status_code} {stream.headers.get('content-type')}"
    assert httpx.post(url, content=b"x" * (5 * 1024 * 1024), timeout=20).status_code == 413
    assert httpx.post(url, content=b"not an envelope", timeout=5).status_code == 400
    event_id = secrets.token_hex(16)
    envelope = (json.dumps({"event_id": event_id}) + "\n" + json.dumps({"type": "event"}) + "\n"
                + json.dumps({"event_id": event_id, "message": "tunnel probe", "platform": "javascript"}) + "\n").encode()
    cross = httpx.post(url, content=envelope, headers={"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}, timeout=5)
    assert cross.status_code == 403, f"cross-site POST: {cross.status_code}"
    assert httpx.post(url, content=envelope, timeout=5).status_code == 200
    eventually(lambda: any(event_id in raw for raw in spotlight.raw_texts()), timeout=15,
               what="the envelope posted to the tunnel in Spotlight (positive control)")


def test_spotlight_tunnel_delivers_a_replay_envelope_at_once(stack: Stack, spotlight: SpotlightCollector) -> None:
    """A replay envelope (replay_event + a zlib recording, as the browser SDK sends it) is answered
    200 and its replay_event is on Spotlight's stream. Spotlight 4.11.8 answers such an envelope
    500 and streams it only with the next envelope; the tunnel posts the recording apart, first
    (frontend/lib/spotlightTunnel.ts, spotlightEnvelopes)."""
    replay_id = secrets.token_hex(16)
    replay_event = {"type": "replay_event", "replay_id": replay_id, "segment_id": 0, "error_ids": [],
                    "timestamp": time.time(), "platform": "javascript"}
    recording = b'{"segment_id":0}\n' + zlib.compress(b'[{"type":4,"data":{"href":"http://x/"},"timestamp":1}]')
    envelope = SdkEnvelope(headers={"event_id": replay_id}, items=[
        Item(payload=PayloadRef(json=replay_event), type="replay_event"),
        Item(payload=PayloadRef(bytes=recording), type="replay_recording"),
    ])
    answer = httpx.post(f"{stack.frontend_url}/_spotlight", content=envelope.serialize(), timeout=10)
    assert answer.status_code == 200, f"replay envelope through the tunnel: {answer.status_code} {answer.text[:200]}"
    eventually(lambda: [p for p in spotlight.payloads("replay_event") if p.get("replay_id") == replay_id], timeout=10,
               what=f"replay_event {replay_id} on Spotlight's stream")


# --- oversized bodies --------------------------------------------------------------------------
def _frontend_requests(client: httpx.Client, status: str) -> float:
    text = client.get("/api/metrics").text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("nextjs_requests_total{") and 'route="/api/[...backend]"' in line and f'status_code="{status}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_oversized_api_body_answers_413_from_the_frontend_and_counts_as_4xx(stack: Stack) -> None:
    with httpx.Client(base_url=stack.frontend_url, timeout=20) as client:
        before = {s: _frontend_requests(client, s) for s in ("413", "500")}
        response = client.post("/api/auth/login", content=b"a" * (1536 * 1024), headers={"Content-Type": "application/json"})
        assert response.status_code == 413, f"1.5 MB body: {response.status_code} {response.text[:200]}"
        assert response.json() == {"detail": "Request body too large"}
        after = eventually(lambda: (lambda a: a if a["413"] == before["413"] + 1 else None)(
            {s: _frontend_requests(client, s) for s in ("413", "500")}), timeout=10, what="the 413 in nextjs_requests_total")
        assert after["500"] == before["500"], f"a 500 was counted: {before} -> {after}"
        assert client.post("/api/auth/login", json={"email": "a@example.com", "password": "x" * 12}).status_code in (401, 429), \
            "positive control: small bodies still reach the backend"


# --- spans without raw URLs --------------------------------------------------------------------
def test_frontend_spans_carry_no_secret_query_value_or_email(browser: Browser, stack: Stack, spotlight: SpotlightCollector) -> None:
    password, email = new_password(), new_email("e2e-span")
    secrets_sent = [password, email]
    trace_id, sentry_trace = sampled_trace_header()
    query = f"password={password}&email={quote(email)}&owner={email}&limit=5"
    httpx.get(f"{stack.frontend_url}/api/billing/plan?{query}", headers={"sentry-trace": sentry_trace}, timeout=10)

    context = browser.new_context(base_url=stack.frontend_url)
    context.add_init_script(SAMPLE_EVERYTHING_SCRIPT)
    try:
        page = context.new_page()
        page.goto(f"/login?{query}")
        page.get_by_role("button", name="Log in").wait_for()
        page.goto("/pricing")  # ends the page load span, navigation breadcrumb from the canary URL
        page.get_by_role("region", name="Pro plan").wait_for()
    finally:
        context.close()

    def server_span() -> dict:
        found = [s for env in frontend_envelopes(spotlight, trace_id) for s in spans(env)
                 if "/api/billing/plan?" in str(attribute(s, "http.target") or "")]
        assert found, f"no Next.js server span of trace {trace_id} with the query yet"
        return found[0]

    def browser_envelopes() -> list:
        found = [env for env in frontend_envelopes(spotlight, "/login") if "pageload" in env.raw]
        assert found, "no browser page load span of /login yet"
        return found

    target = str(attribute(eventually(server_span, timeout=30, what="the server span"), "http.target"))
    assert "password=[Filtered]" in target and "limit=5" in target, f"positive control: the scrubbed target {target}"
    haystacks = {f"frontend envelope {i}": env.raw for i, env in
                 enumerate(frontend_envelopes(spotlight, trace_id) + eventually(browser_envelopes, timeout=30, what="browser spans"))}
    leaks = [f"{needle!r} in {place}" for secret in secrets_sent for needle in variants(secret)
             for place, raw in haystacks.items() if needle in raw]
    assert not leaks, "raw URL data in frontend spans:\n" + "\n".join(leaks[:10])


# --- /api/metrics ------------------------------------------------------------------------------
def test_frontend_metrics_only_for_loopback_scrapers(stack: Stack) -> None:
    other = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=other, timeout=5) as outsider:
        spoofed = outsider.get(f"{stack.frontend_url}/api/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert spoofed.status_code == 403 and "nextjs_requests_total" not in spoofed.text, \
        f"from 127.0.0.2 with a spoofed X-Forwarded-For: {spoofed.status_code}"
    assert "nextjs_requests_total" in httpx.get(f"{stack.frontend_url}/api/metrics", timeout=5).text
    # this run's target: Prometheus keeps its TSDB across test-stack restarts, so an earlier run's
    # frontend (another free port) still has an `up` series within the 5-minute lookback
    instance = urlsplit(stack.frontend_url).netloc
    query = f'up{{job="nextjs", instance="{instance}"}}'
    # polled: right after the stack starts, the target may not have been scraped yet (empty = 0)
    eventually(lambda: prometheus.value(stack.prometheus_url, query) == 1, timeout=20,
               what=f"Prometheus to scrape the frontend ({query} == 1)")


# --- X-Forwarded-For ---------------------------------------------------------------------------
@pytest.fixture
def reset_auth_rate_limit(stack: Stack):  # noqa: ANN201
    """The test spends 127.0.0.1's login budget for this minute; give it back afterwards."""
    import redis  # noqa: PLC0415 - the backend's dependency, in the same venv

    client = redis.Redis.from_url(parse_env_file(stack.data_dir / "stack.env")["REDIS_URL"])
    yield
    for key in client.scan_iter(match="*rl:auth:*"):
        client.delete(key)
    client.close()


def test_rotating_forwarded_for_does_not_bypass_the_login_rate_limit(stack: Stack, reset_auth_rate_limit: None) -> None:
    """The limit is a fixed 60 s window per client (RATE_LIMIT_AUTH_PER_MINUTE, 20 in the test stack): 25
    attempts can straddle a window boundary (12 + 13) and, while Redis was just down, each worker
    counts in-process. So attempt until a 429 or a deadline: a limiter that honours the rotating header
    never answers 429, a correct one does within two windows."""
    statuses = []
    deadline = time.monotonic() + 150
    with httpx.Client(base_url=stack.frontend_url, timeout=10) as client:
        for i in range(200):
            response = client.post("/api/auth/login", json={"email": "nobody@example.com", "password": "wrong-password-1"},
                                   headers={"X-Forwarded-For": f"203.0.{113 + i // 250}.{i % 250 + 1}",
                                            "X-Real-IP": f"198.51.100.{i % 250 + 1}"})
            statuses.append(response.status_code)
            if response.status_code == 429 or time.monotonic() > deadline:
                break
    assert statuses and all(s in (401, 429) for s in statuses), statuses
    assert statuses[-1] == 429, f"{len(statuses)} logins with a rotating X-Forwarded-For were never rate limited: {statuses}"
