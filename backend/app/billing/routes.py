from fastapi import APIRouter, Request

from app.billing import service
from app.billing.provider import PaymentProvider
from app.billing.schemas import PlanOut, UpgradeIn
from app.users.deps import CurrentPrincipal, Session

router = APIRouter(prefix="/api/billing", tags=["billing"])


@router.get("/plan", response_model=PlanOut, responses={401: {"description": "Not authenticated"}})
async def get_plan(principal: CurrentPrincipal, session: Session) -> PlanOut:
    return PlanOut(plan=await service.get_plan(session, principal))


@router.post(
    "/upgrade",
    response_model=PlanOut,
    responses={
        401: {"description": "Not authenticated"},
        409: {"description": "Already on that plan"},
        502: {"description": "Payment provider error"},
        504: {"description": "Payment provider timeout"},
    },
)
async def upgrade(data: UpgradeIn, request: Request, principal: CurrentPrincipal, session: Session) -> PlanOut:
    settings = request.app.state.settings
    provider = PaymentProvider(request.app.state.http, settings.PAYMENT_PROVIDER_URL, settings.PAYMENT_TIMEOUT_SECONDS)
    plan = await service.upgrade(session, provider, principal, data.plan, settings.PRO_PLAN_PRICE_CENTS)
    return PlanOut(plan=plan)
