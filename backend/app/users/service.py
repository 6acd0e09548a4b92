"""Signup, login, logout and session lookup."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.events import track_event
from app.core.errors import Conflict, Unauthorized
from app.core.redis import Cache
from app.core.security import hash_password, hash_token, needs_rehash, new_session_token, verify_password
from app.users.models import AuthSession, User, Workspace
from app.users.schemas import LoginIn, SignupIn, UserOut

INVALID_LOGIN = "Invalid email or password"


@dataclass(frozen=True)
class Principal:
    """Who is calling: enough to authorise every query without another lookup."""

    user_id: uuid.UUID
    workspace_id: uuid.UUID
    token_hash: str
    plan: str = "free"  # for api_usage_total{plan}; may lag an upgrade by SESSION_CACHE_SECONDS


def user_out(user: User, workspace: Workspace) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        plan=workspace.plan,
        workspace_id=workspace.id,
        created_at=user.created_at,
    )


async def _open_session(session: AsyncSession, user_id: uuid.UUID, ttl_seconds: int) -> str:
    token = new_session_token()
    session.add(
        AuthSession(
            token_hash=hash_token(token),
            user_id=user_id,
            expires_at=datetime.now(UTC) + timedelta(seconds=ttl_seconds),
        )
    )
    return token


async def signup(session: AsyncSession, data: SignupIn, session_ttl: int) -> tuple[UserOut, str]:
    exists = await session.scalar(select(User.id).where(User.email == data.email))
    if exists is not None:
        raise Conflict("Email already registered")
    user = User(id=uuid.uuid4(), email=data.email, name=data.name, password_hash=await hash_password(data.password))
    workspace = Workspace(id=uuid.uuid4(), owner_id=user.id, name=f"{data.name}'s workspace", plan="free")
    session.add(user)
    try:
        await session.flush()  # the user row first: workspace and session reference it
    except IntegrityError as exc:
        await session.rollback()
        if "uq_users_email" in str(exc.orig):  # lost a race with a concurrent signup
            raise Conflict("Email already registered") from None
        raise
    session.add(workspace)
    token = await _open_session(session, user.id, session_ttl)
    track_event(session, "signed_up", str(user.id), {"plan": "free", "workspace_id": str(workspace.id)})
    await session.commit()
    return user_out(user, workspace), token


async def login(session: AsyncSession, data: LoginIn, session_ttl: int) -> tuple[UserOut, str]:
    row = (
        await session.execute(
            select(User, Workspace).join(Workspace, Workspace.owner_id == User.id).where(User.email == data.email)
        )
    ).first()
    user, workspace = row if row else (None, None)
    if not await verify_password(user.password_hash if user else None, data.password) or user is None:
        raise Unauthorized(INVALID_LOGIN)
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password(data.password)
    token = await _open_session(session, user.id, session_ttl)
    await session.commit()
    return user_out(user, workspace), token


def _session_cache_key(cache: Cache, token_hash: str) -> str:
    return cache.key("session", token_hash)


async def logout(session: AsyncSession, cache: Cache, principal: Principal) -> None:
    await session.execute(delete(AuthSession).where(AuthSession.token_hash == principal.token_hash))
    await session.commit()
    await cache.delete(_session_cache_key(cache, principal.token_hash))


async def authenticate(session: AsyncSession, cache: Cache, token: str, cache_seconds: int) -> Principal:
    """Resolve a token; Redis remembers it for cache_seconds, PostgreSQL is the truth."""
    token_hash = hash_token(token)
    key = _session_cache_key(cache, token_hash)
    cached = await cache.get(key)
    if cached is not None:
        data = orjson.loads(cached)
        if data["exp"] > datetime.now(UTC).timestamp():
            return Principal(uuid.UUID(data["u"]), uuid.UUID(data["w"]), token_hash, data.get("p", "free"))
    row = (
        await session.execute(
            select(AuthSession.user_id, Workspace.id, AuthSession.expires_at, Workspace.plan)
            .join(Workspace, Workspace.owner_id == AuthSession.user_id)
            .where(AuthSession.token_hash == token_hash, AuthSession.expires_at > func.now())
        )
    ).first()
    if row is None:
        raise Unauthorized()
    user_id, workspace_id, expires_at, plan = row
    remaining = int(expires_at.timestamp() - datetime.now(UTC).timestamp())
    if remaining > 0:
        payload = orjson.dumps(
            {"u": str(user_id), "w": str(workspace_id), "exp": expires_at.timestamp(), "p": plan}
        )
        await cache.set(key, payload, min(cache_seconds, remaining))
    return Principal(user_id, workspace_id, token_hash, plan)


async def get_me(session: AsyncSession, principal: Principal) -> UserOut:
    row = (
        await session.execute(
            select(User, Workspace).join(Workspace, Workspace.owner_id == User.id).where(User.id == principal.user_id)
        )
    ).first()
    if row is None:
        raise Unauthorized()
    return user_out(*row)
