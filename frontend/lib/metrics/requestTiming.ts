// Counts and times every request the Next.js Node server handles, using Node's built-in HTTP
// diagnostics channels (`http.server.request.start` / `http.server.response.finish`, present in the Node 20+ we run).
// Next.js has no public per-request completion hook (middleware/proxy only sees the start,
// onRequestError only failures), and its OpenTelemetry spans exist only when a trace is
// sampled, so this small hook is written by hand.
//
// What is measured, honestly:
// - nextjs_requests_total{route,status_code}: every request, including proxied /api calls
//   (route "/api/[...backend]"), static assets and the metrics endpoint; route is a template
//   from lib/routes.ts, never the raw path.
// - nextjs_render_duration_seconds{route}: only page routes (document or RSC payload requests),
//   wall time from the request start to the response's last byte (includes time spent waiting
//   in the event loop behind other requests). Every page renders on every request (its scripts
//   carry the per-request CSP nonce, see app/layout.tsx). Our pages fetch
//   their data in the browser, so no backend time is included. Link prefetches (RSC payload
//   requests for links in view) are counted as well.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPageRoute, serverRouteLabel } from '../routes';
import { getFrontendMetrics } from './registry';

interface ServerMessage {
  request: IncomingMessage;
  response: ServerResponse;
}

const INSTALLED = Symbol.for('app.frontend.requestTiming');
type GlobalWithFlag = typeof globalThis & { [INSTALLED]?: boolean };

export function installRequestMetrics(): void {
  const g = globalThis as GlobalWithFlag;
  if (g[INSTALLED]) return; // hot reload / second register(): subscribe once
  g[INSTALLED] = true;

  const started = new WeakMap<ServerResponse, bigint>();
  const metrics = getFrontendMetrics();

  diagnosticsChannel.subscribe('http.server.request.start', (message) => {
    const { response } = message as ServerMessage;
    started.set(response, process.hrtime.bigint());
  });

  diagnosticsChannel.subscribe('http.server.response.finish', (message) => {
    const { request, response } = message as ServerMessage;
    const route = serverRouteLabel(request.url ?? '/');
    metrics.requestsTotal.inc({ route, status_code: String(response.statusCode) });
    const start = started.get(response);
    if (start !== undefined && isPageRoute(route)) {
      metrics.renderDuration.observe({ route }, Number(process.hrtime.bigint() - start) / 1e9);
    }
  });
}
