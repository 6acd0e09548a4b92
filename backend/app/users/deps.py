"""Request dependencies: the authenticated principal and the auth rate limit."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import correlation, product
from app.core.client_address import rate_limit_key
from app.core.db import get_session
from app.core.errors import TooManyRequests, Unauthorized
from app.users import service
from app.users.service import Principal

SESSION_COOKIE = product.SESSION_COOKIE

_bearer = HTTPBearer(auto_error=False, description="Session token from signup/login")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="httpOnly session cookie")

Session = Annotated[AsyncSession, Depends(get_session)]


async def get_principal(
    request: Request,
    session: Session,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    token = bearer.credentials if bearer else cookie
    if not token or len(token) > 200:
        raise Unauthorized()
    settings = request.app.state.settings
    principal = await service.authenticate(session, request.app.state.cache, token, settings.SESSION_CACHE_SECONDS)
    correlation.set_caller(principal)  # for logs, metrics and Sentry (user id, never the token)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def auth_rate_limit(request: Request) -> None:
    """RATE_LIMIT_AUTH_PER_MINUTE per client IP, signup and login counted together.

    request.client is the TCP peer, or the address our trusted proxy saw
    (app/core/client_address.py); IPv6 clients are counted per /64.
    """
    limit = request.app.state.settings.RATE_LIMIT_AUTH_PER_MINUTE
    client = rate_limit_key(request.client.host) if request.client else "unknown"
    retry_after = await request.app.state.rate_limiter.hit("auth", client, limit)
    if retry_after is not None:
        correlation.mark_rate_limited("auth")
        raise TooManyRequests("Too many attempts, try again later", headers={"Retry-After": str(retry_after)})
