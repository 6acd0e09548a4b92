"""Cross-site request forgery: refuse state-changing requests that a browser sent from another origin.

The session cookie is SameSite=Lax, which still lets a page on another *port* of the same site
(same-site, cross-origin) post forms with it. So every POST/PUT/PATCH/DELETE that is not
authenticated by a bearer token (cookie-authenticated, or anonymous such as login/signup, which
also covers login CSRF) is checked the way browsers let a server check it (the algorithm of Go's
net/http CrossOriginProtection):

1. `Sec-Fetch-Site: same-origin` or `none` -> allowed (every current browser sends it);
2. otherwise an `Origin` in CSRF_TRUSTED_ORIGINS -> allowed;
3. `Sec-Fetch-Site` or `Origin` present and neither of the above -> 403, nothing runs;
4. neither header -> allowed: not a browser (curl, server-to-server, tests), which cannot ride
   on a victim's cookie anyway.

A bearer token is never sent by a browser on its own, so bearer requests are exempt (the same
rule as the auth dependency: `Authorization: Bearer <token>` wins over the cookie).
Pure ASGI, headers only: the body is never read before the decision.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
REFUSED = "Cross-origin request refused: this origin may not change data here"


def _is_bearer(value: bytes) -> bool:
    scheme, _, credentials = value.partition(b" ")
    return scheme.lower() == b"bearer" and bool(credentials.strip())


class CSRFMiddleware:
    def __init__(self, app: ASGIApp, *, trusted_origins: Iterable[str]) -> None:
        self.app = app
        self.trusted_origins = frozenset(o.lower().encode() for o in trusted_origins)

    def allowed(self, headers: list[tuple[bytes, bytes]]) -> bool:
        fetch_site: bytes | None = None
        origin: bytes | None = None
        for name, value in headers:
            if name == b"authorization" and _is_bearer(value):
                return True
            if name == b"sec-fetch-site":
                fetch_site = value.lower()
            elif name == b"origin":
                origin = value.lower()
        if fetch_site in (b"same-origin", b"none"):
            return True
        if origin is not None and origin in self.trusted_origins:
            return True
        return fetch_site is None and origin is None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or self.allowed(scope["headers"]):
            await self.app(scope, receive, send)
            return
        await JSONResponse({"detail": REFUSED}, status_code=403)(scope, receive, send)
