#!/usr/bin/env node
// Builds the app with canary values in the server-side secret variables (SENTRY_DSN,
// SENTRY_AUTH_TOKEN, MIXPANEL_TOKEN) and fails if any canary appears in the build output.
//
// It scans everything `next build` writes except its cache: .next/static (the JS/CSS the
// browser downloads) and .next/server (server chunks, prerendered HTML and RSC payloads that
// are sent to browsers). Secrets belong in the runtime environment, never in a build artifact.
// A positive control proves the scan reaches the browser bundle: NEXT_PUBLIC_ENVIRONMENT is
// set to a marker that instrumentation-client.ts inlines, and it must be found in .next/static.
//
// Usage: node scripts/check-bundle-secrets.mjs            (build, then scan)
//        node scripts/check-bundle-secrets.mjs --no-build (scan an existing build made with
//                                                         the same variables exported)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const distDir = path.join(root, '.next');
const noBuild = process.argv.includes('--no-build');

const tag = randomBytes(6).toString('hex');
const canaries = {
  SENTRY_DSN: process.env.SENTRY_DSN || `https://canarydsnkey${tag}@o0.ingest.canary.invalid/4242`,
  SENTRY_AUTH_TOKEN: process.env.SENTRY_AUTH_TOKEN || `sntrys_canary_auth_token_${tag}`,
  MIXPANEL_TOKEN: process.env.MIXPANEL_TOKEN || `canary_mixpanel_token_${tag}`,
};
const control = { NEXT_PUBLIC_ENVIRONMENT: process.env.NEXT_PUBLIC_ENVIRONMENT || `canary-environment-${tag}` };

if (noBuild) {
  for (const name of [...Object.keys(canaries), ...Object.keys(control)]) {
    if (!process.env[name]) {
      console.error(`--no-build needs ${name} exported with the value the build was made with`);
      process.exit(2);
    }
  }
} else {
  console.log('[bundle-secrets] next build with canary secrets ...');
  const result = spawnSync('npx', ['--no-install', 'next', 'build'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      ...canaries,
      ...control,
      NEXT_TELEMETRY_DISABLED: '1',
      // Canary token without org/project: next.config.ts does not upload anything.
      SENTRY_ORG: '',
      SENTRY_PROJECT: '',
    },
  });
  if (result.status !== 0) {
    console.error('[bundle-secrets] next build failed');
    process.exit(result.status ?? 1);
  }
}

/** Needles: each full value, plus the distinctive parts (a DSN's public key) that could leak alone. */
function needles(name, value) {
  const out = [value];
  if (name === 'SENTRY_DSN') {
    try {
      const key = new URL(value).username;
      if (key.length >= 8) out.push(key);
    } catch {
      /* not a URL: the full value is enough */
    }
  }
  return out.map((n) => Buffer.from(n));
}

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (full === path.join(distDir, 'cache')) continue; // build cache, never served
      yield* files(full);
    } else if (entry.isFile()) {
      yield full;
    }
  }
}

const findings = [];
let controlFound = false;
let scanned = 0;
let bytes = 0;
const controlNeedle = Buffer.from(control.NEXT_PUBLIC_ENVIRONMENT);
const secretNeedles = Object.entries(canaries).flatMap(([name, value]) => needles(name, value).map((n) => [name, n]));

for (const file of files(distDir)) {
  const content = readFileSync(file);
  scanned += 1;
  bytes += statSync(file).size;
  const rel = path.relative(root, file);
  for (const [name, needle] of secretNeedles) {
    if (content.includes(needle)) findings.push(`${name} found in ${rel}`);
  }
  if (!controlFound && rel.startsWith(path.join('.next', 'static')) && content.includes(controlNeedle)) controlFound = true;
}

console.log(`[bundle-secrets] scanned ${scanned} files (${(bytes / 1e6).toFixed(1)} MB) under .next (cache excluded)`);
if (!controlFound) {
  console.error('[bundle-secrets] FAIL: the positive control (NEXT_PUBLIC_ENVIRONMENT) was not found in .next/static: the scan does not see the browser bundle');
  process.exit(1);
}
if (findings.length > 0) {
  console.error('[bundle-secrets] FAIL: secrets in the build output:\n  ' + findings.join('\n  '));
  process.exit(1);
}
console.log('[bundle-secrets] OK: no SENTRY_DSN, SENTRY_AUTH_TOKEN or MIXPANEL_TOKEN value in the build; control found in the browser bundle');
