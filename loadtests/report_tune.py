"""The tune-alerts report: tune.md, tune.html (loadtests/report_html.py) and one PNG per knob,
fault level -> the alerts that fired at it (the first level of each marked), req/s alongside.

The first screen answers in one sentence per alert and knob: from which level it fires and how long
into that level it took, or that no level of the sweep made it fire.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from infra.product import PRODUCT  # noqa: E402
from loadtests.report_html import to_html  # noqa: E402

# rows of one knob: (level, req/s, {alert: seconds into the level it first fired}, [already firing])
Rows = list[tuple[float, float, dict[str, float], list[str]]]


def plot(knob: str, rows: Rows, path: Path) -> None:
    names = sorted({n for _, _, fired, _ in rows for n in fired})
    fig, ax = plt.subplots(figsize=(9, max(2.4, 0.42 * len(names) + 1.5)))
    levels = [lvl for lvl, *_ in rows]
    xs = list(range(len(levels)))
    first_seen: set[str] = set()
    for x, (_, _, fired, already) in zip(xs, rows, strict=True):
        for i, name in enumerate(names):
            if name in fired:
                first = name not in first_seen
                first_seen.add(name)
                ax.scatter([x], [i], s=140 if first else 60, color="#d1495b", marker="*" if first else "o", zorder=3)
                ax.annotate(f"+{fired[name]:.0f}s", (x, i), textcoords="offset points", xytext=(8, -3), fontsize=7)
            elif name in already:
                ax.scatter([x], [i], s=40, color="#f2c14e", zorder=3)
    if not names:
        ax.text(0.5, 0.5, f"no alert fired at any {knob} level", transform=ax.transAxes, ha="center", va="center",
                color="#555")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_ylim(-0.7, max(len(names), 1) - 0.3)
    ax.set_xticks(xs, [f"{lvl:g}" for lvl in levels])
    ax.set_xlabel(f"{knob} (each level held in turn; star: the first level at which the alert fired, "
                  "+s: seconds into the level; yellow: still firing from before)", fontsize=8)
    ax.grid(alpha=0.3)
    rps = ax.twinx()
    rps.plot(xs, [r for _, r, _, _ in rows], color="#1f77b4", lw=1, ls="--", marker=".")
    rps.set_ylabel("req/s (dashed)", fontsize=8)
    ax.set_title(f"Fault level -> first alert: {knob}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def sentences(knob: str, rows: Rows, alerts: list[str]) -> list[str]:
    out = []
    top = rows[-1][0] if rows else None
    for name in alerts:
        hit = next(((lvl, fired[name]) for lvl, _, fired, _ in rows if name in fired), None)
        if hit:
            out.append(f"**{name}** fires from {knob} = {hit[0]:g}, {hit[1]:.0f} s into that level.")
        elif any(name in already for *_, already in rows):
            out.append(f"**{name}** was already firing from an earlier level or knob (not judged here).")
        elif top is not None:
            out.append(f"**{name}** did not fire at any {knob} level up to {top:g}.")
    return out


def write(report_dir: Path, intro: list[str], results: dict[str, Rows], alerts: list[str]) -> tuple[Path, Path]:
    """`alerts`: every alert the sweep watched (those that never fired get their sentence too)."""
    lines = ["# Alert thresholds under load (loadtests.tune)", "", "## The answer", ""]
    for knob, rows in results.items():
        lines += [f"- {s}" for s in sentences(knob, rows, [a for a in alerts if any(a in f for _, _, f, _ in rows)])]
        silent = [a for a in alerts if not any(a in f for _, _, f, _ in rows)]
        if silent and rows:
            lines.append(f"- Silent at every {knob} level up to {rows[-1][0]:g}: {', '.join(silent)}.")
    lines += [""] + intro + [""]
    for knob, rows in results.items():
        png = f"tune-{knob}.png"
        try:
            plot(knob, rows, report_dir / png)
            picture = [f"![{knob}: fault level -> first alert]({png})", ""]
        except Exception as exc:  # noqa: BLE001 - the table below still answers
            picture = [f"*plot not drawn: {type(exc).__name__}: {exc}*", ""]
        lines += [f"## {knob}", ""] + picture
        lines += ["| level | req/s | alerts that fired (seconds into the level) |", "|---|---|---|"]
        first: dict[str, float] = {}
        for level, rps, fired, already in rows:
            shown = ", ".join(f"{n} (+{t:.0f}s)" for n, t in sorted(fired.items())) or "none"
            if already:
                shown += f"; already firing: {', '.join(already)}"
            lines.append(f"| {level:g} | {rps:.1f} | {shown} |")
            for n in fired:
                first.setdefault(n, level)
        lines += ["", "| alert | fires from |", "|---|---|"]
        lines += [f"| {n} | {knob} = {lvl:g} |" for n, lvl in sorted(first.items(), key=lambda kv: kv[1])]
        lines.append("")
    md = report_dir / "tune.md"
    md.write_text("\n".join(lines) + "\n")
    return md, to_html(md, f"{PRODUCT.name} alert thresholds under load")
