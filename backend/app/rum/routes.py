"""Browser-facing endpoints: web-vitals beacons and business events from the UI.

POST /api/rum/vitals (unauthenticated, like any RUM beacon) records a web-vitals histogram by page.
A hostile client cannot create series (pages outside the allow-list are "other") nor skew the
histograms with absurd values (out-of-range -> 422). Values are what the web-vitals library
reports: milliseconds for LCP/FCP/TTFB/INP, unitless for CLS.

POST /api/events (authenticated) goes through track_event and the outbox like every business
event: same distinct ID as the backend's events, same no-loss guarantee, no token in the browser.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from app.analytics.events import track_event
from app.core import metrics
from app.users.deps import CurrentPrincipal, Session

router = APIRouter(prefix="/api", tags=["rum"])

KNOWN_PAGES = frozenset({"/", "/signup", "/login", "/dashboard", "/projects/[id]", "/pricing"})
_PROJECT_PAGE = re.compile(r"^/projects/[^/]+$")
MAX_MILLISECONDS = 60_000.0
MAX_CLS = 10.0


def normalize_page(page: str) -> str:
    path = page.split("?", 1)[0].split("#", 1)[0]
    if len(path) > 1:
        path = path.rstrip("/")
    if path in KNOWN_PAGES:
        return path
    if _PROJECT_PAGE.match(path):
        return "/projects/[id]"
    return "other"


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
