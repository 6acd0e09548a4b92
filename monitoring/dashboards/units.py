"""Grafana's field units, formatted for axes and stat values ("250 ms", "42%", "1.5 MiB", "3 req/s").

Grafana's own formatters live in its TypeScript valueFormats; these are the ones the dashboards
use (and their close relatives), rewritten by hand. Unknown units print as "<value> <unit>".
"""

from __future__ import annotations

import math

_SI = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
_SHORT = [(1e12, " Tri"), (1e9, " Bil"), (1e6, " Mil"), (1e3, " K")]
_IEC = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
_DEC_BYTES = ["B", "kB", "MB", "GB", "TB", "PB"]
RATES = {"reqps": "req/s", "rps": "reads/s", "wps": "writes/s", "iops": "io/s", "ops": "ops/s",
         "opm": "ops/min", "rpm": "req/min", "cps": "c/s", "eps": "events/s"}


def _num(value: float, decimals: int | None) -> str:
    if decimals is not None:
        return f"{value:.{decimals}f}"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    digits = 0 if magnitude >= 100 else 1 if magnitude >= 10 else 2 if magnitude >= 1 else \
        min(6, 2 - math.floor(math.log10(magnitude)))
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _scaled(value: float, steps: list[tuple[float, str]], decimals: int | None) -> str:
    for size, suffix in steps:
        if abs(value) >= size:
            return _num(value / size, decimals) + suffix
    return _num(value, decimals)


def _binary(value: float, names: list[str], base: float, decimals: int | None) -> str:
    i = 0
    while abs(value) >= base and i < len(names) - 1:
        value /= base
        i += 1
    return f"{_num(value, decimals)} {names[i]}"


def _seconds(value: float, decimals: int | None) -> str:
    magnitude = abs(value)
    if magnitude == 0:
        return "0 s"
    for limit, size, name in ((1e-6, 1e-9, "ns"), (1e-3, 1e-6, "µs"), (1, 1e-3, "ms"), (60, 1, "s"),
                              (3600, 60, "min"), (86_400, 3600, "hour"), (math.inf, 86_400, "day")):
        if magnitude < limit:
            return f"{_num(value / size, decimals)} {name}"
    return f"{_num(value, decimals)} s"  # unreachable


def format_value(value: float, unit: str = "short", decimals: int | None = None) -> str:
    if value is None or math.isnan(value):
        return "–"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    unit = unit or "short"
    if unit in ("s", "ms", "µs", "us", "ns"):
        scale = {"s": 1, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}[unit]
        return _seconds(value * scale, decimals)
    if unit == "percent":
        return _num(value, decimals) + "%"
    if unit == "percentunit":
        return _num(value * 100, decimals) + "%"
    if unit in ("bytes", "kbytes", "mbytes"):
        return _binary(value * {"bytes": 1, "kbytes": 1024, "mbytes": 1024 ** 2}[unit], _IEC, 1024, decimals)
    if unit == "decbytes":
        return _binary(value, _DEC_BYTES, 1000, decimals)
    if unit in ("Bps", "binBps"):
        return _binary(value, _IEC, 1024, decimals) + "/s"
    if unit == "decBps":
        return _binary(value, _DEC_BYTES, 1000, decimals) + "/s"
    if unit in ("bps", "binbps"):
        return _binary(value, ["b", "Kib", "Mib", "Gib", "Tib"], 1024, decimals) + "/s"
    if unit in RATES:
        return f"{_scaled(value, _SI, decimals)} {RATES[unit]}"
    if unit == "currencyUSD":
        return ("-$" if value < 0 else "$") + _scaled(abs(value), _SI, decimals)
    if unit in ("short", "none", ""):
        return _scaled(value, _SHORT, decimals)
    if unit.startswith("suffix:"):
        return _num(value, decimals) + unit.split(":", 1)[1]
    if unit.startswith("prefix:"):
        return unit.split(":", 1)[1] + _num(value, decimals)
    return f"{_num(value, decimals)} {unit}"
