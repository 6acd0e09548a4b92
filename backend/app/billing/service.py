"""Plan and upgrade. The provider call happens outside any DB transaction; the plan change,
the charge record and the plan_upgraded event are committed together only after it succeeded."""

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.events import track_event
from app.billing.models import Charge
from app.billing.provider import PaymentProvider
from app.core.errors import Conflict
from app.users.models import Workspace
from app.users.service import Principal

ALREADY_PRO = "Workspace is already on the pro plan"


async def get_plan(session: AsyncSession, principal: Principal) -> str:
    plan = await session.scalar(select(Workspace.plan).where(Workspace.id == principal.workspace_id))
    return plan or "free"


async def upgrade(
    session: AsyncSession, provider: PaymentProvider, principal: Principal, plan: str, amount_cents: int
) -> str:
    if await get_plan(session, principal) == plan:
        raise Conflict(ALREADY_PRO)
    # Give the connection back to the pool while we wait on the provider (up to the timeout).
    await session.rollback()

    idempotency_key = f"upgrade:{principal.workspace_id}:{plan}"
    charge_id = await provider.charge(principal.workspace_id, plan, amount_cents, idempotency_key)

    changed = await session.scalar(
        update(Workspace)
        .where(Workspace.id == principal.workspace_id, Workspace.plan != plan)
        .values(plan=plan)
        .returning(Workspace.id)
    )
    if changed is None:
        # A concurrent upgrade won; the idempotency key kept the provider from charging twice.
        await session.rollback()
        raise Conflict(ALREADY_PRO)
    session.add(Charge(workspace_id=principal.workspace_id, provider_charge_id=charge_id, plan=plan, amount_cents=amount_cents))
    track_event(
        session,
        "plan_upgraded",
        str(principal.user_id),
        {"plan": plan, "amount_cents": amount_cents, "workspace_id": str(principal.workspace_id)},
    )
    await session.commit()
    return plan
