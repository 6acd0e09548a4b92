"""Product pages that do not wait for JavaScript (issue 16, item 3), and the inlined stylesheet under
the production CSP.

With JavaScript disabled, a browser gets what the server rendered: the login and signup forms must
be there (they used to render only in the browser), and /pricing must show a signed-out visitor the
plans and the login link without asking GET /api/billing/plan (which can only answer 401). The
stylesheet is inlined into the document (next.config.ts `experimental.inlineCss`); it carries no
nonce, so it applies only because the CSP allows it by hash (lib/security/inlineStyles.ts): the
computed style proves it, in a browser with JavaScript on (a blocked <style> would leave the page
unstyled and log a CSP violation).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from support.stack import Stack

BACKGROUND = "rgb(247, 248, 250)"  # --bg of app/globals.css, the background of :root


@pytest.fixture
def no_js(browser: Browser, stack: Stack) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=stack.frontend_url, java_script_enabled=False)
    yield context
    context.close()


def test_login_and_signup_forms_are_in_the_server_rendered_html(no_js: BrowserContext) -> None:
    page = no_js.new_page()
    page.goto("/login?next=/pricing")
    form = page.get_by_role("form", name="Log in")
    expect(form.get_by_label("Email")).to_be_visible()
    expect(form.get_by_label("Password")).to_be_visible()
    # Until React hydrates, the form cannot be submitted natively (typed values would bypass the API client).
    expect(form.get_by_role("button", name="Log in")).to_be_disabled()
    assert form.get_attribute("method") == "post"
    page.goto("/signup")
    form = page.get_by_role("form", name="Sign up")
    for label in ("Name", "Email", "Password (8 to 128 characters)"):
        expect(form.get_by_label(label, exact=True)).to_be_visible()


def test_pricing_for_a_signed_out_visitor_makes_no_authenticated_call(no_js: BrowserContext, browser: Browser,
                                                                     stack: Stack) -> None:
    page = no_js.new_page()
    page.goto("/pricing")
    expect(page.get_by_role("link", name="Log in to upgrade")).to_be_visible()

    context = browser.new_context(base_url=stack.frontend_url)
    try:
        page = context.new_page()
        api_calls: list[str] = []
        page.on("request", lambda r: api_calls.append(r.url) if "/api/" in r.url else None)
        page.goto("/pricing")
        # Hydrated: the nav bar's client code ran (its links are client-side once React owns them).
        expect(page.get_by_role("link", name="Log in to upgrade")).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert not [u for u in api_calls if "/api/billing/plan" in u], api_calls
    finally:
        context.close()


def test_inlined_stylesheet_applies_under_the_csp(browser: Browser, stack: Stack) -> None:
    context = browser.new_context(base_url=stack.frontend_url)
    violations: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        response = page.goto("/login")
        assert response is not None
        csp = response.headers.get("content-security-policy", "")
        assert "'sha256-" in csp.split("style-src", 1)[1].split(";", 1)[0], csp
        assert page.locator("link[rel=stylesheet]").count() == 0, "a render-blocking stylesheet link is back"
        assert page.locator("style[data-precedence]").count() >= 1, "the stylesheet is not inlined"
        expect(page.locator("html")).to_have_css("background-color", BACKGROUND)
        expect(page.locator("body")).to_have_css("margin-top", "0px")  # body { margin: 0 } (default 8px)
        assert not violations, violations
    finally:
        context.close()
