"""GET/PUT/DELETE /_faults: only mounted when FAULT_INJECTION_ENABLED=true, only for loopback clients."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from app.faults import state as fault_state
from app.faults.catalogue import FaultsIn

LOOPBACK = frozenset({"127.0.0.1", "::1"})

router = APIRouter(tags=["faults"], include_in_schema=False)


def _loopback_only(request: Request) -> fault_state.FaultStore:
    host = request.client.host if request.client else None
    if host not in LOOPBACK or fault_state.store is None:
        raise HTTPException(status_code=404, detail="Not Found")
    return fault_state.store


@router.get("/_faults")
async def get_faults(request: Request) -> dict:
    return _loopback_only(request).current().to_json()


@router.put("/_faults")
async def put_faults(body: FaultsIn, request: Request) -> dict:
    store = _loopback_only(request)
    new = fault_state.FaultState.from_json(body.model_dump())
    store.write(new)
    return store.current().to_json()


@router.delete("/_faults")
async def delete_faults(request: Request) -> dict:
    store = _loopback_only(request)
    store.clear()
    return store.current().to_json()
