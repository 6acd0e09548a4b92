"""Client for the payment provider (a SaaS; locally the capture server's /payments)."""

import logging
import uuid

import httpx

from app.core.errors import BadGateway, GatewayTimeout
from app.core.metrics import record_billing_outcome
from app.core.sentry import capture_upstream_failure

log = logging.getLogger(__name__)


class PaymentProviderError(Exception):
    """The provider answered, but not with a successful charge (reported to Sentry, answered 502)."""


def _bad_gateway(reason: str) -> BadGateway:
    """Record, log and report a provider answer we cannot use; the reason never holds its body."""
    log.warning("payment provider failed: %s", reason)
    record_billing_outcome("error")
    capture_upstream_failure(PaymentProviderError(reason), "payment_provider")
    return BadGateway()


class PaymentProvider:
    def __init__(self, http: httpx.AsyncClient, base_url: str, timeout_seconds: float) -> None:
        self.http = http
        self.url = base_url.rstrip("/") + "/charges"
        self.timeout = httpx.Timeout(timeout_seconds)

    async def charge(self, workspace_id: uuid.UUID, plan: str, amount_cents: int, idempotency_key: str) -> str:
        """Charge the workspace; returns the provider's charge id. 504 on timeout, 502 otherwise."""
        try:
            response = await self.http.post(
                self.url,
                json={
                    "amount_cents": amount_cents,
                    "currency": "usd",
                    "plan": plan,
                    "workspace_id": str(workspace_id),
                },
                headers={"Idempotency-Key": idempotency_key},
                timeout=self.timeout,
            )
        except httpx.TimeoutException as exc:
            log.warning("payment provider timed out: %s", type(exc).__name__)
            record_billing_outcome("timeout")
            capture_upstream_failure(exc, "payment_provider")
            raise GatewayTimeout() from exc
        except httpx.HTTPError as exc:
            log.warning("payment provider unreachable: %s", type(exc).__name__)
            record_billing_outcome("error")
            capture_upstream_failure(exc, "payment_provider")
            raise BadGateway() from exc
        if response.status_code != 200:
            raise _bad_gateway(f"answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise _bad_gateway("answered a body that is not JSON") from None
        if not isinstance(body, dict) or body.get("status") != "succeeded" or not body.get("id"):
            raise _bad_gateway("answered without a succeeded charge")
        record_billing_outcome("ok")
        return str(body["id"])
