"""A Markdown report as an HTML page that opens in a browser: the `markdown` package (tables,
attribute lists) and a small stylesheet. Images stay files next to the report, referenced by the
same relative paths in both, so the Markdown and the HTML show the same pictures."""

from __future__ import annotations

import html
from pathlib import Path

import markdown

STYLE = """
body { font-family: system-ui, -apple-system, sans-serif; color: #24292e; max-width: 1280px; margin: 16px auto;
       padding: 0 16px; line-height: 1.45; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #d0d4d9; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f5f5; }
img { max-width: 100%; height: auto; }
code { background: #f4f5f5; padding: 0 3px; }
.panels { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 8px; }
.panels figure { margin: 0; }
.panels figcaption { font-size: 12px; color: #555; }
.panels figure.empty figcaption { color: #b00020; font-weight: 600; }
"""


def to_html(md_path: Path, title: str) -> Path:
    """<report>.md -> <report>.html beside it."""
    body = markdown.markdown(md_path.read_text(), extensions=["tables", "attr_list", "md_in_html"])
    page = (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")
    out = md_path.with_suffix(".html")
    out.write_text(page)
    return out


def panel_gallery(images, base: Path) -> list[str]:
    """Dashboard panel images (monitoring.dashboards.render.PanelImage) as raw HTML the Markdown
    carries: one figure per panel, grouped by dashboard; an empty panel is captioned as empty."""
    lines: list[str] = []
    by_dashboard: dict[str, list] = {}
    for img in images:
        by_dashboard.setdefault(img.dashboard, []).append(img)
    for dashboard, panels in by_dashboard.items():
        empty = [p.panel for p in panels if not p.had_data]
        lines += [f"#### {dashboard}", "",
                  f"{len(panels)} panels, {len(empty)} empty" + (": " + ", ".join(empty) if empty else "") + ".", ""]
        lines.append('<div class="panels" markdown="0">')
        for p in panels:
            src = html.escape(p.path.relative_to(base).as_posix())
            cls = "data" if p.had_data else "empty"
            caption = html.escape(p.panel) + ("" if p.had_data else " (empty: no data)")
            lines.append(f'<figure class="{cls}" data-panel="{html.escape(p.panel)}"><img src="{src}" '
                         f'alt="{caption}" loading="eager"><figcaption>{caption}</figcaption></figure>')
        lines += ["</div>", ""]
    return lines
