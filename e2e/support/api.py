"""Direct backend calls for a journey's preconditions (a user who already exists, her projects)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class ApiUser:
    id: str
    email: str
    password: str
    token: str
    workspace_id: str


def signup(backend_url: str, email: str, password: str, name: str) -> ApiUser:
    response = httpx.post(f"{backend_url}/api/auth/signup", json={"email": email, "password": password, "name": name},
                          headers={"X-Request-ID": f"e2e-setup-{secrets.token_hex(6)}"}, timeout=10)
    assert response.status_code == 201, f"signup through the API: {response.status_code} {response.text}"
    body = response.json()
    return ApiUser(id=body["user"]["id"], email=email, password=password, token=body["token"],
                   workspace_id=body["user"]["workspace_id"])


def signup_canary_user(backend_url: str, canaries, journey: str, email_prefix: str, name: str) -> ApiUser:  # noqa: ANN001
    """Sign up through the API with a fresh e-mail and password, all registered (with the token) as
    canaries that must never appear in any Sentry event, log line or Mixpanel property."""
    from support.canaries import new_email, new_password  # noqa: PLC0415

    user = signup(backend_url, canaries.add("email", new_email(email_prefix), journey),
                  canaries.add("password", new_password(), journey), name)
    canaries.add("token", user.token, journey)
    return user


def create_project(backend_url: str, user: ApiUser, name: str) -> dict[str, Any]:
    response = httpx.post(f"{backend_url}/api/projects", json={"name": name},
                          headers={"Authorization": f"Bearer {user.token}"}, timeout=10)
    assert response.status_code == 201, f"create project through the API: {response.status_code} {response.text}"
    return response.json()
