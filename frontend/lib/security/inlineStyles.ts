// CSP hashes of the stylesheets Next inlines into documents (next.config.ts `experimental.inlineCss`).
//
// Next renders an inlined stylesheet as a <style> element but gives React only the script nonce,
// so the element carries no nonce (verified with Next 16.4 / React 19.3: `<style data-precedence=
// "next" data-href=...>`), and `style-src 'nonce-…'` would block it. Its content is fixed at build
// time, so the document CSP allows exactly that content by its SHA-256 hash. The contents are read
// once, at the first request, from the build's client reference manifests (where Next keeps the
// text it inlines: `"inlined":true,"content":"..."`). Server-only (proxy.ts, Node.js runtime).
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const INLINED = /"inlined":true,"content":("(?:[^"\\]|\\.)*")/g;

/** The CSS texts a client reference manifest marks as inlined. */
export function inlinedCss(manifest: string): string[] {
  return [...manifest.matchAll(INLINED)].map((m) => JSON.parse(m[1]!) as string);
}

/** A CSP source expression allowing exactly this <style> content. */
export function styleHashSource(css: string): string {
  return `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
}

function manifests(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const full = path.join(dir, name);
    if (name.endsWith('_client-reference-manifest.js')) return [full];
    return name.includes('.') ? [] : manifests(full);
  });
}

let cached: string[] | null = null;

/** Hash sources of every inlined stylesheet of the build `next start` serves (cwd/.next), deduplicated. */
export function inlineStyleHashes(distDir = path.join(process.cwd(), '.next')): string[] {
  if (cached) return cached;
  const sources = new Set<string>();
  for (const file of manifests(path.join(distDir, 'server', 'app'))) {
    for (const css of inlinedCss(readFileSync(file, 'utf8'))) sources.add(styleHashSource(css));
  }
  cached = [...sources].sort();
  return cached;
}
