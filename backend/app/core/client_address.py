"""The client address of a request: the TCP peer, or the address our own proxy saw.

Exactly one proxy hop is trusted, and only when it proves it is ours: its peer address is one of
TRUSTED_PROXY_ADDRESSES *and* it sends TRUSTED_PROXY_SECRET in X-Trusted-Proxy-Secret. Then the
right-most X-Forwarded-For entry (the address that proxy's socket saw; our Next.js proxy sends
exactly one) becomes scope["client"], so request.client is right for everything keyed by client
address (the auth rate limit, the loopback-only /_faults). Any other request keeps its TCP peer:
a forwarded header sent directly to the API, from any address, is ignored.

The secret is what tells the proxy apart from other processes on the same host (in the local
stack the web app, the tests and curl all connect from 127.0.0.1). Without a secret no proxy is
trusted. The secret header is removed from the scope, so no log or Sentry event can carry it.

Written by hand (pure ASGI, one pass over the headers): uvicorn's ProxyHeadersMiddleware
(`forwarded_allow_ips`) trusts an address, not a proof, so it cannot distinguish the web app from
curl on the same host, and it walks the list past every trusted entry instead of one hop. The
servers' own proxy-header handling is switched off (app/core/gunicorn_worker.py) so that
scope["client"] is the TCP peer when this middleware sees it.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network

from starlette.types import ASGIApp, Receive, Scope, Send

PROXY_SECRET_HEADER = "X-Trusted-Proxy-Secret"
_SECRET_KEY = PROXY_SECRET_HEADER.lower().encode()
_XFF_KEY = b"x-forwarded-for"
# scope key: True when the request came through our trusted proxy (read by app/core/sentry.py).
VIA_TRUSTED_PROXY = "app.via_trusted_proxy"


def parse_address(value: str) -> str | None:
    """A forwarded entry as a normalised IP address, or None if it is not one."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def rate_limit_key(host: str) -> str:
    """What a per-client limit counts: the address, or for IPv6 its /64 (one subscriber's
    allocation, which a client can rotate through freely)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class TrustedProxyMiddleware:
    def __init__(self, app: ASGIApp, *, proxies: Iterable[IPv4Network | IPv6Network | str], secret: str) -> None:
        self.app = app
        self.proxies = [ipaddress.ip_network(p, strict=False) for p in proxies]
        self.secret = secret.encode()

    def _is_proxy(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        presented: bytes | None = None
        forwarded: list[bytes] = []
        for name, value in scope["headers"]:
            if name == _SECRET_KEY:
                presented = value
            elif name == _XFF_KEY:
                forwarded.append(value)
        trusted = False
        if presented is not None:
            scope["headers"] = [(n, v) for n, v in scope["headers"] if n != _SECRET_KEY]
            peer = scope.get("client")
            if self.secret and peer and self._is_proxy(peer[0]) and hmac.compare_digest(presented, self.secret):
                trusted = True
                if forwarded:
                    last = b",".join(forwarded).decode("latin-1").rsplit(",", 1)[-1]
                    address = parse_address(last)
                    if address is not None:
                        scope["client"] = (address, 0)
        scope[VIA_TRUSTED_PROXY] = trusted
        await self.app(scope, receive, send)
