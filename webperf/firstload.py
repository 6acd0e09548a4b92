"""First-load JS of a page: the scripts its server-rendered HTML references, their raw and gzip
bytes, and those bytes split by npm package (from the build's source maps).

The split by package is by raw bytes (source-map-explorer, frontend/scripts/chunk-packages.mjs);
a package's gzip bytes are its share of each chunk's raw bytes times that chunk's gzip size (an
estimate: gzip does not compress every part of a chunk equally). The exact figure is the
difference between two builds' totals, which the report prints too.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SCRIPT_SRC = re.compile(r"""<script\b[^>]*\bsrc=["']([^"']+)["']""", re.IGNORECASE)
NODE_MODULES = re.compile(r"node_modules/((?:@[^/]+/)?[^/]+)/")
APP = "(app)"
OTHER = "(runtime, no source)"


def script_paths(html: str) -> list[str]:
    """Same-origin /_next/static/*.js scripts of a document, in order, without duplicates."""
    seen: list[str] = []
    for src in SCRIPT_SRC.findall(html):
        path = src.split("?", 1)[0]
        if path.startswith("/_next/static/") and path.endswith(".js") and path not in seen:
            seen.append(path)
    return seen


def package_of(source: str) -> str:
    """npm package of a source-map source ("turbopack:///[project]/node_modules/@sentry/core/..." ->
    "@sentry/core"); the app's own files -> "(app)"; source-map-explorer's [unmapped] etc. -> runtime."""
    found = NODE_MODULES.findall(source)
    if found:
        return found[-1]  # the innermost node_modules (a nested copy belongs to its own package)
    if source.startswith("[") and source.endswith("]"):
        return OTHER
    return APP


@dataclass
class Chunk:
    path: str  # /_next/static/chunks/....js
    raw: int
    gzip: int
    packages: dict[str, int] = field(default_factory=dict)  # raw bytes by package

    def gzip_by_package(self) -> dict[str, float]:
        total = sum(self.packages.values()) or 1
        return {name: self.gzip * size / total for name, size in self.packages.items()}


def read_chunks(build_dir: Path, paths: list[str], frontend_dir: Path) -> dict[str, Chunk]:
    """Sizes and package split of each chunk of a build (`build_dir` = the folder holding .next)."""
    files = {path: build_dir / ".next" / path.removeprefix("/_next/") for path in paths}
    split = json.loads(subprocess.run(
        ["node", str(frontend_dir / "scripts" / "chunk-packages.mjs"), *map(str, files.values())],
        cwd=frontend_dir, check=True, capture_output=True, text=True).stdout)
    chunks: dict[str, Chunk] = {}
    for path, file in files.items():
        data = file.read_bytes()
        packages: dict[str, int] = {}
        for source, size in split.get(str(file), {}).items():
            name = package_of(source)
            packages[name] = packages.get(name, 0) + int(size)
        chunks[path] = Chunk(path, len(data), len(gzip.compress(data, 9)), packages)
    return chunks


@dataclass
class FirstLoad:
    raw: int
    gzip: int
    gzip_by_package: dict[str, float]
    raw_by_package: dict[str, int]

    def sentry_gzip(self) -> float:
        return sum(v for k, v in self.gzip_by_package.items() if is_sentry(k))

    def sentry_raw(self) -> int:
        return sum(v for k, v in self.raw_by_package.items() if is_sentry(k))


def is_sentry(package: str) -> bool:
    return package.startswith("@sentry/") or package.startswith("@sentry-internal/")


def first_load(scripts: list[str], chunks: dict[str, Chunk]) -> FirstLoad:
    raw = gz = 0
    gzip_by: dict[str, float] = {}
    raw_by: dict[str, int] = {}
    for path in scripts:
        chunk = chunks[path]
        raw += chunk.raw
        gz += chunk.gzip
        for name, size in chunk.gzip_by_package().items():
            gzip_by[name] = gzip_by.get(name, 0.0) + size
        for name, size in chunk.packages.items():
            raw_by[name] = raw_by.get(name, 0) + size
    return FirstLoad(raw, gz, gzip_by, raw_by)
