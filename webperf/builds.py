"""The two production builds the benchmark compares, each in a private copy of frontend/ (so that a
`next build` here never replaces the chunks someone's `next start` of frontend/ serves):

- sentry:    the product, exactly as `make build` makes it;
- no-sentry: the same app with SENTRY_BUILD=off (next.config.ts: @sentry/nextjs resolved to
             lib/sentry/compiledOut.ts, withSentryConfig not applied).

Both are built with BROWSER_SOURCEMAPS=1 (.map files beside the chunks, for the split by
package). A copy is rebuilt only when frontend/'s sources changed (a hash of them is kept beside it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from infra.local.services import FRONTEND_DIR, ROOT

BENCH_DIR = ROOT / ".data" / "bench-frontend"
SKIP = {".next", "node_modules", "tsconfig.tsbuildinfo", ".bench-source-hash", "next-env.d.ts"}


@dataclass(frozen=True)
class Variant:
    name: str
    env: dict[str, str]


VARIANTS = (
    Variant("sentry", {}),
    Variant("no-sentry", {"SENTRY_BUILD": "off"}),
)
COMMON_ENV = {"BROWSER_SOURCEMAPS": "1", "NEXT_TELEMETRY_DISABLED": "1"}


def source_files(frontend: Path) -> list[Path]:
    out = []
    for path in sorted(frontend.rglob("*")):
        rel = path.relative_to(frontend)
        if rel.parts[0] in SKIP or not path.is_file():
            continue
        out.append(path)
    return out


def source_hash(frontend: Path, variant: Variant) -> str:
    digest = hashlib.sha1(repr(sorted({**COMMON_ENV, **variant.env}.items())).encode())
    for path in source_files(frontend):
        digest.update(str(path.relative_to(frontend)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build(variant: Variant, log=print, frontend: Path = FRONTEND_DIR, base: Path = BENCH_DIR) -> Path:  # noqa: ANN001
    """The copy of frontend/ built as `variant` (built now if missing or stale); returns its folder."""
    target = base / variant.name
    stamp = source_hash(frontend, variant)
    stamp_file = target / ".bench-source-hash"
    if (target / ".next" / "BUILD_ID").exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        log(f"[bench-frontend] {variant.name}: build is current")
        return target
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["rsync", "-a", "--delete", *[f"--exclude={s}" for s in sorted(SKIP)],
                    f"{frontend}/", f"{target}/"], check=True)
    modules = target / "node_modules"
    lock = frontend / "package-lock.json"
    if not modules.exists() or lock.stat().st_mtime > (modules / ".package-lock.json").stat().st_mtime:
        shutil.rmtree(modules, ignore_errors=True)
        subprocess.run(["cp", "-al", str(frontend / "node_modules"), str(modules)], check=True)
    shutil.rmtree(target / ".next", ignore_errors=True)
    log(f"[bench-frontend] {variant.name}: next build ({', '.join(f'{k}={v}' for k, v in variant.env.items()) or 'the product'})")
    subprocess.run(["npx", "--no-install", "next", "build"], cwd=target, check=True,
                   env={**os.environ, **COMMON_ENV, **variant.env}, stdout=subprocess.DEVNULL)
    stamp_file.write_text(stamp)
    return target
