"""Browser-facing endpoints: web-vitals beacons and business events from the UI.

POST /api/rum/vitals (unauthenticated, like any RUM beacon) records a web-vitals histogram by page.
A hostile client cannot create series (pages outside the allow-list are "other") nor skew the
histograms with absurd values (out-of-range -> 422). Values are what the web-vitals library
reports: milliseconds for LCP/FCP/TTFB/INP, unitless for CLS.

POST /api/rum/errors (unauthenticated) counts an uncaught browser error by type and page template
(browser_errors_total): the type is a bounded identifier from an allow-list, never the message.
POST /api/rum/pageviews (unauthenticated, no identifier, no cookie) counts a view of a funnel page
(page_views_total): the visitor step of visitor -> signup -> upgrade; `page` is one of the funnel
pages' templates (/, /pricing, /signup). Both are rate limited per client
and take at most a 1 KiB body (app/rum/limits.py); bad input is a 4xx and counts nothing.

POST /api/events (authenticated) goes through track_event and the outbox like every business
event: same distinct ID as the backend's events, same no-loss guarantee, no token in the browser.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.analytics.events import track_event
from app.core import metrics
from app.rum import metrics as rum_metrics
from app.rum.bounds import ERROR_TYPE_PATTERN, KNOWN_PAGES, FunnelPage, normalize_error_type, normalize_page
from app.rum.limits import error_beacon_limit, page_view_beacon_limit
from app.users.deps import CurrentPrincipal, Session

router = APIRouter(prefix="/api", tags=["rum"])

__all__ = ["KNOWN_PAGES", "normalize_page", "router"]
MAX_MILLISECONDS = 60_000.0
MAX_CLS = 10.0
# A page template or path in printable ASCII (what location.pathname templates are), so a beacon stays small.
PAGE_PATTERN = r"^[\x20-\x7e]+$"


class _Vital(BaseModel):
    page: str = Field(min_length=1, max_length=200)
    rating: Literal["good", "needs-improvement", "poor"] | None = None
    id: str | None = Field(default=None, max_length=100)


# One model per unit, so that the schema states each bound (strict: a JSON boolean is no number).
class TimingVital(_Vital):
    name: Literal["LCP", "INP", "FCP", "TTFB"]
    value: float = Field(ge=0, le=MAX_MILLISECONDS, strict=True, description="milliseconds")


class LayoutShiftVital(_Vital):
    name: Literal["CLS"]
    value: float = Field(ge=0, le=MAX_CLS, strict=True, description="unitless")


VitalIn = Annotated[TimingVital | LayoutShiftVital, Field(discriminator="name")]


@router.post("/rum/vitals", status_code=status.HTTP_204_NO_CONTENT, responses={422: {"description": "Invalid"}})
async def record_vital(vital: VitalIn) -> Response:
    value = vital.value if vital.name == "CLS" else vital.value / 1000.0
    metrics.WEB_VITAL_HISTOGRAMS[vital.name].labels(normalize_page(vital.page)).observe(value)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class BrowserErrorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a message, stack or URL field is refused, not ignored
    type: str = Field(pattern=ERROR_TYPE_PATTERN, description="the error's class name (error.name), never its message")
    page: str = Field(min_length=1, max_length=200, pattern=PAGE_PATTERN, description="the page's route template")


@router.post("/rum/errors", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(error_beacon_limit)],
             responses={413: {"description": "Beacon too large"}, 422: {"description": "Invalid"},
                        429: {"description": "Rate limited"}})
async def record_browser_error(body: BrowserErrorIn) -> Response:
    rum_metrics.browser_errors_total.labels(normalize_error_type(body.type), normalize_page(body.page)).inc()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class PageViewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # nothing that could identify the visitor
    page: FunnelPage = Field(description="a funnel page's route template")


@router.post("/rum/pageviews", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(page_view_beacon_limit)],
             responses={413: {"description": "Beacon too large"}, 422: {"description": "Not a funnel page"},
                        429: {"description": "Rate limited"}})
async def record_page_view(body: PageViewIn) -> Response:
    rum_metrics.page_views_total.labels(body.page).inc()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class UiEventIn(BaseModel):
    event: Literal["page_viewed", "upgrade_clicked"]
    page: str = Field(min_length=1, max_length=200)


@router.post("/events", status_code=status.HTTP_202_ACCEPTED, response_class=Response,
             responses={202: {"description": "Accepted (no body)"}, 401: {"description": "Not authenticated"}})
async def record_ui_event(body: UiEventIn, principal: CurrentPrincipal, session: Session) -> Response:
    track_event(session, body.event, str(principal.user_id),
                {"page": normalize_page(body.page), "source": "web", "workspace_id": str(principal.workspace_id)})
    await session.commit()
    return Response(status_code=status.HTTP_202_ACCEPTED)
