"""Bounds on the unauthenticated beacons: a small body (MAX_BEACON_BYTES) and RATE_LIMIT_RUM_PER_MINUTE per client and kind."""

from __future__ import annotations

from fastapi import Request

from app.core import correlation
from app.core.client_address import rate_limit_key
from app.core.errors import AppError, TooManyRequests

# A beacon is two short ASCII fields (their schema bounds them to a few hundred bytes, JSON-escaped);
# anything larger is not one (the app-wide MAX_BODY_BYTES is 64 KiB).
MAX_BEACON_BYTES = 2048


class BeaconTooLarge(AppError):
    status_code = 413
    detail = "Beacon too large"


def _check_size(request: Request) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BEACON_BYTES:
        raise BeaconTooLarge()


async def _limit(request: Request, scope: str) -> None:
    _check_size(request)
    limit = request.app.state.settings.RATE_LIMIT_RUM_PER_MINUTE
    client = rate_limit_key(request.client.host) if request.client else "unknown"
    retry_after = await request.app.state.rate_limiter.hit(scope, client, limit)
    if retry_after is not None:
        correlation.mark_rate_limited(scope)
        raise TooManyRequests("Too many beacons, try again later", headers={"Retry-After": str(retry_after)})


async def error_beacon_limit(request: Request) -> None:
    await _limit(request, "rum_errors")


async def page_view_beacon_limit(request: Request) -> None:
    await _limit(request, "rum_page_views")
