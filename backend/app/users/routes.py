from fastapi import APIRouter, Depends, Request, Response, status

from app.users import service
from app.users.deps import SESSION_COOKIE, CurrentPrincipal, Session, auth_rate_limit
from app.users.schemas import AuthOut, LoginIn, SignupIn, UserOut

router = APIRouter(prefix="/api", tags=["auth"])

_401 = {401: {"description": "Not authenticated"}}
_429 = {429: {"description": "Too many attempts"}}


def _set_cookie(request: Request, response: Response, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.SESSION_TTL_SECONDS,
        httponly=True,
        samesite="lax",
        secure=settings.COOKIE_SECURE,
        path="/",
    )


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=AuthOut,
    dependencies=[Depends(auth_rate_limit)],
    responses={409: {"description": "Email already registered"}, **_429},
)
async def signup(data: SignupIn, request: Request, response: Response, session: Session) -> AuthOut:
    user, token = await service.signup(session, data, request.app.state.settings.SESSION_TTL_SECONDS)
    _set_cookie(request, response, token)
    return AuthOut(user=user, token=token)


@router.post(
    "/auth/login", response_model=AuthOut, dependencies=[Depends(auth_rate_limit)], responses={**_401, **_429}
)
async def login(data: LoginIn, request: Request, response: Response, session: Session) -> AuthOut:
    user, token = await service.login(session, data, request.app.state.settings.SESSION_TTL_SECONDS)
    _set_cookie(request, response, token)
    return AuthOut(user=user, token=token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=_401)
async def logout(request: Request, principal: CurrentPrincipal, session: Session) -> Response:
    await service.logout(session, request.app.state.cache, principal)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.get("/me", response_model=UserOut, tags=["users"], responses=_401)
async def me(principal: CurrentPrincipal, session: Session) -> UserOut:
    return await service.get_me(session, principal)
