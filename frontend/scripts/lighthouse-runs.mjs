#!/usr/bin/env node
// Lighthouse (performance category only) over a list of runs, in one headless Chromium
// (chrome-launcher, CHROME_PATH, default /usr/bin/chromium; nothing is downloaded).
// Used by `make bench-frontend` (webperf/); reads a JSON plan on stdin, writes one JSON line per run:
//
//   stdin:  {"runs": [{"key": "...", "url": "http://127.0.0.1:PORT/login", "formFactor": "mobile"|"desktop",
//                      "cookie": "<slug>_session=..." (optional)}, ...]}
//   stdout: {"key": "...", "score": 0.97, "tbt": 120.5, "lcp": 1800.2, "fcp": 900.1, "cls": 0.0,
//            "scripts": [{"url": ..., "transferSize": ..., "resourceSize": ...}], "warnings": [...]}
//           or {"key": "...", "error": "..."}
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { launch } from 'chrome-launcher';
import lighthouse, { desktopConfig } from 'lighthouse';

const CHROME = process.env.CHROME_PATH || '/usr/bin/chromium';
// LIGHTHOUSE_DUMP_DIR=<dir>: also write each full report there (<key>.json) and its trace (<key>.trace.json),
// to look into one run.
const DUMP_DIR = process.env.LIGHTHOUSE_DUMP_DIR;

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function numeric(lhr, id) {
  const audit = lhr.audits[id];
  return audit && typeof audit.numericValue === 'number' ? audit.numericValue : null;
}

function scripts(lhr) {
  const items = lhr.audits['network-requests']?.details?.items ?? [];
  return items
    .filter((r) => r.resourceType === 'Script')
    .map((r) => ({ url: r.url, transferSize: r.transferSize ?? 0, resourceSize: r.resourceSize ?? 0 }));
}

async function main() {
  const plan = await readStdin();
  const chrome = await launch({
    chromePath: CHROME,
    chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    logLevel: 'silent',
  });
  try {
    for (const run of plan.runs) {
      const flags = {
        port: chrome.port,
        output: 'json',
        logLevel: 'error',
        onlyCategories: ['performance'],
        ...(run.cookie ? { extraHeaders: { Cookie: run.cookie } } : {}),
        // LIGHTHOUSE_CPU_PROFILE=1 (with LIGHTHOUSE_DUMP_DIR): V8's sampling profiler in the trace, to see
        // which functions a long task runs (adds overhead: not for measured runs).
        ...(DUMP_DIR && process.env.LIGHTHOUSE_CPU_PROFILE === '1' ? { additionalTraceCategories: 'disabled-by-default-v8.cpu_profiler' } : {}),
      };
      const config = run.formFactor === 'desktop' ? desktopConfig : undefined;
      try {
        const result = await lighthouse(run.url, flags, config);
        const lhr = result?.lhr;
        if (!lhr) throw new Error('no result');
        if (DUMP_DIR) {
          const base = path.join(DUMP_DIR, run.key.replace(/[^A-Za-z0-9_.-]+/g, '_'));
          writeFileSync(`${base}.json`, result.report);
          // The main-thread trace Lighthouse simulated from (for task-level attribution, e.g. in Chromium's performance panel).
          if (result.artifacts?.Trace) writeFileSync(`${base}.trace.json`, JSON.stringify(result.artifacts.Trace));
        }
        if (lhr.runtimeError) throw new Error(`${lhr.runtimeError.code}: ${lhr.runtimeError.message}`);
        process.stdout.write(
          `${JSON.stringify({
            key: run.key,
            finalUrl: lhr.finalDisplayedUrl,
            score: lhr.categories.performance.score,
            tbt: numeric(lhr, 'total-blocking-time'),
            lcp: numeric(lhr, 'largest-contentful-paint'),
            fcp: numeric(lhr, 'first-contentful-paint'),
            cls: numeric(lhr, 'cumulative-layout-shift'),
            benchmarkIndex: lhr.environment?.benchmarkIndex ?? null,
            renderBlocking: (lhr.audits['render-blocking-resources']?.details?.items ?? []).map((i) => i.url),
            scripts: scripts(lhr),
            warnings: lhr.runWarnings ?? [],
            seconds: Math.round((lhr.timing?.total ?? 0) / 100) / 10,
          })}\n`,
        );
      } catch (error) {
        process.stdout.write(`${JSON.stringify({ key: run.key, error: String(error?.message ?? error) })}\n`);
      }
    }
  } finally {
    await chrome.kill();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
