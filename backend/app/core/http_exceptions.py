"""Errors raised by Starlette/FastAPI themselves, answered the way the OpenAPI schema documents them.

- A body that is not valid UTF-8 is a JSON decode error like any other malformed JSON: 422 with
  FastAPI's `json_invalid` error (FastAPI answers an undocumented 400 "There was an error parsing
  the body" for it).
- 405 lists in `Allow` every method of the path (FastAPI registers one route per method, and
  Starlette's 405 names only the first route that matched the path).
Everything else goes to Starlette's own handler unchanged.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException


def allowed_methods(request: Request) -> list[str]:
    """Every method of every route whose path matches (routes of included routers too)."""
    path, root = request.scope["path"], request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(path):
            methods |= route.methods
    return sorted(methods)


async def http_error_handler(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        error = {"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error",
                 "ctx": {"error": "the body is not valid UTF-8"}}
        return JSONResponse({"detail": [error]}, status_code=422)
    if exc.status_code == 405:
        methods = allowed_methods(request)
        if methods:
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(methods)}
    return await http_exception_handler(request, exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
