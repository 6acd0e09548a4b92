"""Alerting profiles: the same rules at two time scales.

`production` uses the windows and `for` durations from the seed (5m windows, `for: 5m`, ...),
scraped and evaluated every 15s. `fast` divides every duration -- rate windows, `for`,
offsets, duration thresholds (seconds of backlog) and the unit-test timelines -- by
`FAST_SCALE` (20: 5m -> 15s, 1h -> 3m, 1d -> 1h12m) and scrapes/evaluates every second, so the
load harness sees the production behaviour 20 times faster. Thresholds that are ratios,
per-second rates or quantile latencies do not depend on time scale and stay identical.

Rules refer to windows by their production name (`p.d("5m")`); recorded series keep the
production window in their name (`slo:sli_error:ratio_rate5m` is a 15s window in `fast`) so that
dashboards and queries are the same for both profiles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FAST_SCALE = 20

_UNITS = [("d", 86400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 0.001)]
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|d|h|m|s)")


def parse_duration(text: str) -> float:
    """'1h30m' -> 5400.0 seconds (Prometheus duration syntax, without y/w)."""
    pos, total = 0, 0.0
    for match in _DURATION_RE.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * dict(_UNITS)[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"not a duration: {text!r}")
    return total


def format_duration(seconds: float) -> str:
    """5400 -> '1h30m'; 0.75 -> '750ms'. Exact: refuses sub-millisecond remainders."""
    millis = round(seconds * 1000)
    if abs(millis - seconds * 1000) > 1e-6:
        raise ValueError(f"{seconds}s is not a whole number of milliseconds")
    if millis == 0:
        return "0s"
    out = []
    for unit, size in _UNITS:
        size_ms = round(size * 1000)
        count, millis = divmod(millis, size_ms)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


@dataclass(frozen=True)
class Delivery:
    """Alertmanager's routing timings for a profile (route and critical sub-routes)."""

    group_wait: str
    group_interval: str
    repeat_interval: str
    critical_group_wait: str
    critical_repeat_interval: str
    business_hours_only: bool  # warnings wait for business hours (False: deliver at any time)


@dataclass(frozen=True)
class Profile:
    """Every timing of one alert profile: read by the rule/config generators, the stack and the harness."""

    name: str
    scale: int  # production durations are divided by this
    scrape_interval: str
    evaluation_interval: str
    scrape_timeout: str
    resend_delay: str  # Prometheus --rules.alert.resend-delay: how often firing alerts are re-sent
    delivery: Delivery

    def d(self, production_duration: str) -> str:
        """A production duration ('5m') in this profile ('15s' when fast)."""
        return format_duration(parse_duration(production_duration) / self.scale)

    def seconds(self, production_seconds: float) -> float:
        """A duration threshold expressed as a number of seconds (e.g. backlog age)."""
        value = production_seconds / self.scale
        return int(value) if float(value).is_integer() else value


PRODUCTION = Profile(
    "production", 1, scrape_interval="15s", evaluation_interval="15s", scrape_timeout="10s", resend_delay="1m",
    delivery=Delivery(group_wait="30s", group_interval="5m", repeat_interval="4h",
                      critical_group_wait="10s", critical_repeat_interval="1h", business_hours_only=True))
# Tests: deliver within a second or two; business hours are "always" so a test at night still sees
# warnings delivered (routes are identical, only the interval's definition differs); firing alerts
# are re-sent every second, not every minute.
FAST = Profile(
    "fast", FAST_SCALE, scrape_interval="1s", evaluation_interval="1s", scrape_timeout="1s", resend_delay="1s",
    delivery=Delivery(group_wait="1s", group_interval="2s", repeat_interval="1h",
                      critical_group_wait="1s", critical_repeat_interval="1h", business_hours_only=False))
PROFILES = {p.name: p for p in (PRODUCTION, FAST)}


def get(profile: str | Profile) -> Profile:
    """The profile object for a name (`--profile fast`); a Profile is returned as it is."""
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise ValueError(f"unknown alert profile {profile!r} (known: {', '.join(sorted(PROFILES))})") from None
