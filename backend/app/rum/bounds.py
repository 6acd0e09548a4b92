"""What a browser may name in a RUM beacon: pages and error types from allow-lists, anything else "other".

A RUM endpoint is unauthenticated, so every label value it records comes from a fixed set: a hostile
client can neither create series nor smuggle text (messages, URLs, e-mails) into a label.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

OTHER = "other"

KNOWN_PAGES = frozenset({"/", "/signup", "/login", "/dashboard", "/projects/[id]", "/pricing"})
_PROJECT_PAGE = re.compile(r"^/projects/[^/]+$")

# The visitor -> signup funnel's anonymous steps (page_views_total); other pages are not counted there.
FunnelPage = Literal["/", "/pricing", "/signup"]
FUNNEL_PAGES = frozenset(get_args(FunnelPage))

# Error types the browser reports (frontend/lib/rum/errors.ts sends `error.name`): the ECMAScript
# and DOM error classes, the ones Next.js and our own code throw, and the crash fault's.
KNOWN_ERROR_TYPES = frozenset({
    "Error", "TypeError", "ReferenceError", "RangeError", "SyntaxError", "URIError", "EvalError",
    "AggregateError", "InternalError", "DOMException", "AbortError", "NotAllowedError", "NotFoundError",
    "NotSupportedError", "QuotaExceededError", "SecurityError", "InvalidStateError", "NetworkError",
    "TimeoutError", "DataCloneError", "ChunkLoadError", "HydrationError", "ApiError", "UnhandledRejection",
    "InjectedClientCrash",
})
# The shape the endpoint accepts at all (a bounded identifier); a well-formed unknown one is "other".
ERROR_TYPE_PATTERN = r"^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$"


def normalize_page(page: str) -> str:
    path = page.split("?", 1)[0].split("#", 1)[0]
    if len(path) > 1:
        path = path.rstrip("/")
    if path in KNOWN_PAGES:
        return path
    if _PROJECT_PAGE.match(path):
        return "/projects/[id]"
    return OTHER


def normalize_error_type(error_type: str) -> str:
    return error_type if error_type in KNOWN_ERROR_TYPES else OTHER
