// The frontend's Prometheus registry (prom-client), served by app/api/metrics/route.ts.
// One instance per process, kept on globalThis: instrumentation.ts and the route handler are
// separate bundles, and dev hot reloads re-evaluate modules; a second registry would either
// throw "already registered" or silently split the counters.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface FrontendMetrics {
  registry: Registry;
  requestsTotal: Counter<'route' | 'status_code'>;
  renderDuration: Histogram<'route'>;
}

const KEY = Symbol.for('app.frontend.metrics');
type GlobalWithMetrics = typeof globalThis & { [KEY]?: FrontendMetrics };

function create(): FrontendMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'nextjs_' });
  const requestsTotal = new Counter({
    name: 'nextjs_requests_total',
    help: 'HTTP requests handled by the Next.js server, by route template and status code.',
    labelNames: ['route', 'status_code'] as const,
    registers: [registry],
  });
  const renderDuration = new Histogram({
    name: 'nextjs_render_duration_seconds',
    help:
      'Server time for page requests (HTML or RSC payload): from the request reaching the Next.js ' +
      'server to the last byte of the streamed response, by page route template.',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { registry, requestsTotal, renderDuration };
}

export function getFrontendMetrics(): FrontendMetrics {
  const g = globalThis as GlobalWithMetrics;
  return (g[KEY] ??= create());
}
