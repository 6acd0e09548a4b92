import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentCsp } from '@/lib/security/headers';
import { inlineStyleHashes, inlinedCss, styleHashSource } from '@/lib/security/inlineStyles';

const CSS = ':root{--bg:#f7f8fa}\nbody{font-family:"Segoe UI",sans-serif}';
const manifest = (entries: string) =>
  `globalThis.__RSC_MANIFEST = globalThis.__RSC_MANIFEST || {};\nglobalThis.__RSC_MANIFEST["/login/page"] = {"entryCSSFiles":{"[project]/app/layout":[${entries}]}};`;

describe('inline stylesheet hashes (CSP for experimental.inlineCss)', () => {
  it('reads only the inlined CSS of a manifest, unescaped', () => {
    const text = manifest(
      `{"path":".next/static/chunks/a.css","inlined":true,"content":${JSON.stringify(CSS)}},{"path":".next/static/chunks/b.css","inlined":false}`,
    );
    expect(inlinedCss(text)).toEqual([CSS]);
  });

  it('hashes the exact text as CSP does (sha256, base64)', () => {
    const expected = createHash('sha256').update(CSS).digest('base64');
    expect(styleHashSource(CSS)).toBe(`'sha256-${expected}'`);
  });

  it('collects the hashes of every page manifest of a build, once each, into style-src', () => {
    const dist = mkdtempSync(path.join(tmpdir(), 'inline-css-'));
    for (const page of ['login', 'pricing']) {
      mkdirSync(path.join(dist, 'server', 'app', page), { recursive: true });
      writeFileSync(
        path.join(dist, 'server', 'app', page, 'page_client-reference-manifest.js'),
        manifest(`{"path":".next/static/chunks/a.css","inlined":true,"content":${JSON.stringify(CSS)}}`),
      );
    }
    const hashes = inlineStyleHashes(dist);
    expect(hashes).toEqual([styleHashSource(CSS)]);
    const csp = documentCsp({ nonce: 'n', development: false, production: false, styleHashes: hashes });
    expect(csp).toContain(`style-src 'self' 'nonce-n' ${styleHashSource(CSS)};`);
    expect(csp).not.toMatch(/unsafe-inline/);
  });
});
