import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFrontendMetrics } from '@/lib/metrics/registry';
import { installRequestMetrics } from '@/lib/metrics/requestTiming';

// A real Node HTTP server: the diagnostics-channel hook sees it exactly as it sees `next start`.
let server: http.Server;
let base: string;

beforeAll(async () => {
  installRequestMetrics();
  installRequestMetrics(); // idempotent: a second register() must not double count
  server = http.createServer((req, res) => {
    res.statusCode = req.url?.startsWith('/missing') ? 404 : 200;
    setTimeout(() => res.end('ok'), req.url?.startsWith('/projects/') ? 30 : 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function metricsText(): Promise<string> {
  return getFrontendMetrics().registry.metrics();
}

describe('frontend metrics', () => {
  it('is one registry per process (globalThis singleton)', async () => {
    expect(getFrontendMetrics()).toBe(getFrontendMetrics());
    const text = await metricsText();
    expect(text).toContain('nextjs_process_cpu_user_seconds_total');
    expect(text).toContain('nextjs_nodejs_heap_size_used_bytes');
  });

  it('counts requests by route template and status, and times page renders', async () => {
    for (const path of ['/projects/a1?_rsc=x', '/projects/b2', '/api/projects/a1', '/missing/thing']) {
      const response = await fetch(base + path);
      await response.text();
    }
    // response 'finish' and the client's read race in one event loop: poll briefly, with a deadline.
    const deadline = Date.now() + 2000;
    let text = await metricsText();
    while (!/nextjs_requests_total\{route="<unmatched>",status_code="404"\} 1/.test(text) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      text = await metricsText();
    }
    expect(text).toMatch(/nextjs_requests_total\{route="\/projects\/\[id\]",status_code="200"\} 2/);
    expect(text).toMatch(/nextjs_requests_total\{route="\/api\/\[\.\.\.backend\]",status_code="200"\} 1/);
    expect(text).toMatch(/nextjs_requests_total\{route="<unmatched>",status_code="404"\} 1/);
    expect(text).not.toContain('a1');
    expect(text).toMatch(/nextjs_render_duration_seconds_count\{route="\/projects\/\[id\]"\} 2/);
    expect(text).not.toMatch(/nextjs_render_duration_seconds_count\{route="\/api/);
    const sum = Number(/nextjs_render_duration_seconds_sum\{route="\/projects\/\[id\]"\} ([0-9.e-]+)/.exec(text)![1]);
    expect(sum).toBeGreaterThanOrEqual(0.05); // two responses held back 30 ms each
  });
});
