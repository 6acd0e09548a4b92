"""Secrets typed into forms during the session, searched for in every signal at the end.

A canary is a unique value (an e-mail, a password, a session token) that must never leave the
browser/backend boundary into a Sentry event, a log line or a Mixpanel property. We search for the
value itself and the encodings it would take on the way (URL-encoded form, JSON string escaping).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus


def new_email(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}@example.com"


def new_password() -> str:
    return f"Canary-Pw-{secrets.token_hex(8)}"


def variants(value: str) -> set[str]:
    return {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}


@dataclass
class Canary:
    kind: str  # email | password | token
    value: str
    journey: str


@dataclass
class CanaryRegistry:
    canaries: list[Canary] = field(default_factory=list)

    def add(self, kind: str, value: str, journey: str) -> str:
        self.canaries.append(Canary(kind, value, journey))
        return value

    def hits(self, haystacks: dict[str, str]) -> list[str]:
        """Every (canary, place) where a canary occurs, with a little context."""
        found = []
        for canary in self.canaries:
            for needle in variants(canary.value):
                for place, text in haystacks.items():
                    at = text.find(needle)
                    if at != -1:
                        snippet = text[max(0, at - 80): at + len(needle) + 40].replace("\n", " ")
                        found.append(f"{canary.kind} from {canary.journey} in {place}: ...{snippet}...")
        return found
