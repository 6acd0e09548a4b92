#!/usr/bin/env node
// Checks that the SDK's tree-shaking flags (lib/sentry/buildSwitch.ts, set as compiler.define in
// next.config.ts) took effect in the browser chunks of an existing build: no rrweb shadow-DOM or
// cross-origin-iframe recording in the Replay chunk. A define given as a string ('true', 'false')
// is inlined as a string literal: `typeof x === "boolean"` is then false and 'false' is truthy, so
// every flag silently did the opposite. That happened once, and cost Replay's start a hidden iframe
// per page load (docs/benchmarks.md, "Third pass").
//
// Each needle is a class method the minifier keeps that exists only in the code a flag removes (the
// no-op managers keep the other names); a positive control proves the scan sees the Replay chunk.
// __SENTRY_DEBUG__ leaves no such trace with Turbopack (the SDK reads it once, in a module of its
// own, and its value is not inlined across modules): tests/sentryBuildSwitch.test.ts checks that
// it is given as a boolean.
//
// Usage: node scripts/check-bundle-flags.mjs [path/to/.next]   (after `next build`)
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const chunksDir = path.join(process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, '.next'), 'static', 'chunks');

const REMOVED = [
  ['__RRWEB_EXCLUDE_SHADOW_DOM__: true', 'patchAttachShadow'], // ShadowDomManager
  ['__RRWEB_EXCLUDE_IFRAME__: true', 'transformCrossOriginEvent'], // IframeManager
];
const CONTROL = '_initializeRecording'; // a method of the Replay integration's container

const chunks = readdirSync(chunksDir, { recursive: true })
  .filter((name) => String(name).endsWith('.js'))
  .map((name) => [String(name), readFileSync(path.join(chunksDir, String(name)), 'utf8')]);

const findings = [];
for (const [flag, needle] of REMOVED) {
  for (const [name, text] of chunks) if (text.includes(needle)) findings.push(`${flag} did not apply: "${needle}" in ${name}`);
}
if (!chunks.some(([, text]) => text.includes(CONTROL))) {
  console.error(`[bundle-flags] FAIL: no chunk under ${chunksDir} holds Session Replay ("${CONTROL}"): the scan does not see it`);
  process.exit(1);
}
if (findings.length > 0) {
  console.error('[bundle-flags] FAIL:\n  ' + findings.join('\n  '));
  process.exit(1);
}
console.log(`[bundle-flags] OK: ${chunks.length} browser chunks, no rrweb shadow-DOM or iframe recording; Replay chunk found`);
