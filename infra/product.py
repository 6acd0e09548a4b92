"""The product definition (product.toml at the root): its name, slug, SLOs, on-call channels,
business hours and port block, loaded and checked once.

Everything that names the product or depends on those choices reads `PRODUCT` (the generators
of monitoring/ and infra/k8s/, the stack's ports) or is generated from it (backend/app/core/product.py,
frontend/lib/product.ts: `python -m infra.product_files`). copier.yml asks for the same values
and refuses the same invalid answers (`problems()` here, its validators there; infra/tests checks
that both agree).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parents[1]
PATH = Path(os.environ.get("PRODUCT_DEFINITION", ROOT / "product.toml"))

SLUG_RE = re.compile(r"^[a-z][a-z0-9]{1,29}$")  # a Python, PostgreSQL, DNS-1123 and Redis-key name
SERVICE_RE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
CHANNEL_RE = re.compile(r"^#[a-z0-9][a-z0-9_-]{0,79}$")
HHMM_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
DAYS_RE = re.compile(rf"^({'|'.join(DAYS)})(:({'|'.join(DAYS)}))?$")
# The contract ports of docs/contracts.md; a product's block is these plus its port_offset.
CONTRACT_PORTS = (8000, 8001, 3000, 9090, 9093, 9100, 9187, 9121, 8969, 9911, 55432, 56379)


@dataclass(frozen=True)
class Product:
    name: str  # shown to people: page titles, dashboards, the API title
    slug: str  # in machine names: databases, Kubernetes objects, rule groups, Redis keys
    service: str  # the `service` label of the API in metrics and alerts
    repository_url: str  # runbook links point into it
    availability_percent: float
    latency_percent: float
    slack_alerts_channel: str
    slack_engineering_channel: str
    business_days: str  # Alertmanager weekday range, e.g. monday:friday
    business_hours_start: str
    business_hours_end: str
    time_zone: str
    keep_fault_routes: bool
    port_offset: int

    @property
    def availability_objective(self) -> float:
        return round(self.availability_percent / 100, 6)

    @property
    def latency_objective(self) -> float:
        return round(self.latency_percent / 100, 6)

    @property
    def runbook_base_url(self) -> str:
        return f"{self.repository_url.rstrip('/')}/blob/main/monitoring/runbooks"

    @property
    def session_cookie(self) -> str:
        """The session cookie's name. Cookies are per host, not per port: two products side by side on
        127.0.0.1 (port_offset) must not overwrite each other's session."""
        return f"{self.slug}_session"

    def port(self, contract_port: int) -> int:
        return contract_port + self.port_offset


def problems(values: dict) -> list[str]:
    """Why these answers cannot make a product (empty: they can). Same rules as copier.yml."""
    out = []
    if not SLUG_RE.match(str(values.get("slug", ""))):
        out.append(f"slug {values.get('slug')!r}: 2-30 lowercase letters or digits, starting with a letter "
                   "(it names databases, Kubernetes objects and Python modules)")
    if not SERVICE_RE.match(str(values.get("service", ""))):
        out.append(f"service {values.get('service')!r}: lowercase letters, digits and '-', starting with a letter")
    for key in ("availability_percent", "latency_percent"):
        value = values.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < 100:
            out.append(f"{key} {value!r}: an SLO is a percentage strictly between 0 and 100 (100% leaves no error budget)")
    for key in ("slack_alerts_channel", "slack_engineering_channel"):
        if not CHANNEL_RE.match(str(values.get(key, ""))):
            out.append(f"{key} {values.get(key)!r}: a Slack channel such as #alerts (lowercase, no spaces)")
    if not DAYS_RE.match(str(values.get("business_days", ""))):
        out.append(f"business_days {values.get('business_days')!r}: a day or a range such as monday:friday")
    start, end = str(values.get("business_hours_start", "")), str(values.get("business_hours_end", ""))
    if not HHMM_RE.match(start) or not HHMM_RE.match(end) or start >= end:
        out.append(f"business hours {start!r}-{end!r}: HH:MM-HH:MM, start before end")
    try:
        ZoneInfo(str(values.get("time_zone", "")))
    except (ZoneInfoNotFoundError, ValueError):
        out.append(f"time_zone {values.get('time_zone')!r}: an IANA time zone such as Europe/London")
    offset = values.get("port_offset")
    if not isinstance(offset, int) or isinstance(offset, bool):
        out.append(f"port_offset {offset!r}: an integer")
    else:
        moved = [p + offset for p in CONTRACT_PORTS]
        if offset and set(moved) & set(CONTRACT_PORTS):
            out.append(f"port_offset {offset}: the block {moved} collides with the template's own ports "
                       f"{list(CONTRACT_PORTS)}: both products could not run side by side")
        if min(moved) < 1024 or max(moved) > 65535:
            out.append(f"port_offset {offset}: ports {min(moved)}..{max(moved)} leave 1024..65535")
    return out


def load(path: Path = PATH) -> Product:
    data = tomllib.loads(path.read_text())
    flat = {k: v for k, v in data.items() if not isinstance(v, dict)}
    for section in ("slo", "alerting", "runtime"):
        flat.update(data.get(section, {}))
    errors = problems(flat)
    if errors:
        raise ValueError(f"{path}: " + "; ".join(errors))
    return Product(**{**flat, "availability_percent": float(flat["availability_percent"]),
                      "latency_percent": float(flat["latency_percent"])})


PRODUCT = load()
