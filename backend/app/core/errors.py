"""Domain exceptions and their HTTP mapping. Every error body is {"detail": ...}."""

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.core import http_exceptions
from app.core.correlation import request_id_of


class AppError(Exception):
    status_code = 400
    detail = "Bad request"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str | None = None, headers: dict[str, str] | None = None) -> None:
        if detail is not None:
            self.detail = detail
        if headers is not None:
            self.headers = headers
        super().__init__(self.detail)


class NotFound(AppError):
    status_code = 404
    detail = "Not found"


class Conflict(AppError):
    status_code = 409
    detail = "Conflict"


class Unauthorized(AppError):
    status_code = 401
    detail = "Not authenticated"


class TooManyRequests(AppError):
    status_code = 429
    detail = "Too many requests"


class BadGateway(AppError):
    status_code = 502
    detail = "Payment provider error"


class GatewayTimeout(AppError):
    status_code = 504
    detail = "Payment provider timeout"


async def app_error_handler(request: Request, exc: AppError) -> JSONResponse:
    body: dict = {"detail": exc.detail}
    if exc.status_code >= 500:
        body["request_id"] = request_id_of(request)
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def unhandled_error_handler(request: Request, exc: Exception) -> JSONResponse:
    # Reached only without the request middleware (which reports and answers every escaped
    # exception itself) or after the response started; the client gets no exception text.
    return JSONResponse(
        {"detail": "Internal server error", "request_id": request_id_of(request)}, status_code=500
    )


class AsciiJSONResponse(JSONResponse):
    """JSON escaped to ASCII: a lone surrogate sent by a client cannot break the encoder."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


async def validation_error_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    # FastAPI's shape ({"detail": [{"loc", "msg", "type", ...}]}) without echoing the input back:
    # it may be a password, or text the encoder cannot represent.
    errors = [{k: v for k, v in err.items() if k != "input"} for err in exc.errors()]
    return AsciiJSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, app_error_handler)
    http_exceptions.install(app)  # 405 Allow and non-UTF-8 bodies as the OpenAPI schema says
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(Exception, unhandled_error_handler)
