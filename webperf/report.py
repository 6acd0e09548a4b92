"""Medians of the Lighthouse runs, the side-by-side table, first-load JS by package, and the targets
of issue 16 judged pass/fail (pure: tests/test_report.py)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from webperf.firstload import FirstLoad

METRICS = ("score", "tbt", "lcp", "fcp", "cls")

# Issue 16, item 2.
MOBILE_PERF_MIN = 95
MOBILE_TBT_MAX_RATIO = 1.5
SENTRY_GZIP_MAX_KB = 40.0


@dataclass(frozen=True)
class Key:
    variant: str
    page: str
    form_factor: str


def medians(runs: list[dict]) -> dict[Key, dict[str, float]]:
    """Runs (the Lighthouse runner's JSON lines, with variant/page/formFactor) -> median of each metric."""
    grouped: dict[Key, list[dict]] = {}
    for run in runs:
        if "error" in run:
            continue
        grouped.setdefault(Key(run["variant"], run["page"], run["formFactor"]), []).append(run)
    out = {}
    for key, items in grouped.items():
        out[key] = {m: statistics.median(float(i[m]) for i in items if i.get(m) is not None) for m in METRICS}
        out[key]["runs"] = len(items)
    return out


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def lighthouse_table(med: dict[Key, dict[str, float]], pages: list[str], with_: str, without: str) -> list[str]:
    lines = [f"Lighthouse medians: {with_} vs {without} (ratio = {with_} / {without})",
             f"{'page':11s} {'form':7s} {'perf':>11s} {'ratio':>6s} {'TBT ms':>13s} {'ratio':>6s} "
             f"{'LCP ms':>11s} {'ratio':>6s} {'FCP ms':>11s} {'ratio':>6s} {'CLS':>11s} runs"]
    for page in pages:
        for ff in ("mobile", "desktop"):
            a, b = med.get(Key(with_, page, ff)), med.get(Key(without, page, ff))
            if not a or not b:
                lines.append(f"{page:11s} {ff:7s} (no successful run)")
                continue
            lines.append(
                f"{page:11s} {ff:7s} {a['score'] * 100:4.0f} / {b['score'] * 100:3.0f} {ratio(a['score'], b['score']):>6s} "
                f"{a['tbt']:5.0f} / {b['tbt']:5.0f} {ratio(a['tbt'], b['tbt']):>6s} "
                f"{a['lcp']:4.0f} / {b['lcp']:4.0f} {ratio(a['lcp'], b['lcp']):>6s} "
                f"{a['fcp']:4.0f} / {b['fcp']:4.0f} {ratio(a['fcp'], b['fcp']):>6s} "
                f"{a['cls']:.3f}/{b['cls']:.3f} {int(a['runs'])}/{int(b['runs'])}")
    return lines


def kb(n: float) -> str:
    return f"{n / 1024:.1f}"


def first_load_table(loads: dict[tuple[str, str], FirstLoad], pages: list[str], with_: str, without: str,
                     top: int = 6) -> list[str]:
    lines = [f"First-load JS per page, KB (gzip -9 / raw); Sentry = {with_} minus {without} (exact), "
             "and @sentry/* by source map (gzip estimated from each chunk's raw share)",
             f"{'page':11s} {with_ + ' gz/raw':>18s} {without + ' gz/raw':>18s} {'Sentry gz':>9s} {'@sentry/* gz/raw':>17s}"]
    for page in pages:
        a, b = loads[(with_, page)], loads[(without, page)]
        lines.append(f"{page:11s} {kb(a.gzip):>8s} / {kb(a.raw):>7s} {kb(b.gzip):>8s} / {kb(b.raw):>7s} "
                     f"{kb(a.gzip - b.gzip):>9s} {kb(a.sentry_gzip()):>7s} / {kb(a.sentry_raw()):>7s}")
    lines.append(f"Packages of the {with_} build's first-load JS (KB gzip est. / raw), largest first:")
    for page in pages:
        a = loads[(with_, page)]
        ranked = sorted(a.gzip_by_package.items(), key=lambda kv: -kv[1])[:top]
        lines.append(f"  {page:9s} " + ", ".join(f"{name} {kb(gz)}/{kb(a.raw_by_package.get(name, 0))}" for name, gz in ranked))
    return lines


@dataclass(frozen=True)
class Target:
    name: str
    passed: bool
    detail: str


def targets(med: dict[Key, dict[str, float]], loads: dict[tuple[str, str], FirstLoad], pages: list[str],
            with_: str, without: str) -> list[Target]:
    out = []
    for page in pages:
        a, b = med.get(Key(with_, page, "mobile")), med.get(Key(without, page, "mobile"))
        score = a["score"] * 100 if a else float("nan")
        out.append(Target(f"mobile perf >= {MOBILE_PERF_MIN} on {page}", bool(a) and score >= MOBILE_PERF_MIN - 1e-9,
                          f"{score:.0f}"))
        tbt_ratio = a["tbt"] / max(b["tbt"], 1.0) if a and b else float("inf")
        out.append(Target(f"mobile TBT <= {MOBILE_TBT_MAX_RATIO}x no-Sentry on {page}",
                          bool(a and b) and tbt_ratio <= MOBILE_TBT_MAX_RATIO,
                          f"{a['tbt']:.0f} / {b['tbt']:.0f} ms = {tbt_ratio:.2f}x" if a and b else "no run"))
    worst_page = max(pages, key=lambda p: loads[(with_, p)].gzip - loads[(without, p)].gzip)
    worst = (loads[(with_, worst_page)].gzip - loads[(without, worst_page)].gzip) / 1024
    estimate = max(loads[(with_, p)].sentry_gzip() for p in pages) / 1024
    out.append(Target(f"Sentry's share of first-load JS <= {SENTRY_GZIP_MAX_KB:.0f} KB gzip (every page)",
                      worst <= SENTRY_GZIP_MAX_KB and estimate <= SENTRY_GZIP_MAX_KB,
                      f"largest {worst:.1f} KB on {worst_page} (build difference); source-map estimate {estimate:.1f} KB"))
    return out


def target_lines(results: list[Target]) -> list[str]:
    lines = ["Targets (issue 16):"]
    lines += [f"  {'PASS' if t.passed else 'FAIL'}  {t.name}: {t.detail}" for t in results]
    return lines
