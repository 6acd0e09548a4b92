// No response names the backend's internal address. Next's Proxy rewrite to an external URL
// copies its routing headers onto the client response (`x-middleware-rewrite:
// http://127.0.0.1:8000/api/me`), and a backend redirect would carry the backend's own origin in
// `Location`. Before the status line is written: every `x-middleware-*` header is removed, a
// `Location` on the backend's origin becomes a same-origin path, and any other header whose value
// names the backend's host is removed.
// It also fills in the security headers (lib/security/headers.ts) on the few responses Next
// writes without applying next.config `headers()` (its own trailing-slash redirects, say).
// Written by hand: Next has no option to drop its internal headers; the hook is Node's
// `http.server.request.start` diagnostics channel (the response object of every request).
import diagnosticsChannel from 'node:diagnostics_channel';
import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { backendOrigin } from '../proxyTargets';
import { FIXED_SECURITY_HEADERS, NON_DOCUMENT_CSP } from '../security/headers';

const INTERNAL_PREFIX = 'x-middleware-';

/** What to send instead of a header's value: unchanged, rewritten, or null to drop the header. */
export function cleanHeader(name: string, value: OutgoingHttpHeader, backend: URL): OutgoingHttpHeader | null {
  const lower = name.toLowerCase();
  if (lower.startsWith(INTERNAL_PREFIX)) return null;
  const text = Array.isArray(value) ? value.join(', ') : String(value);
  if (!text.toLowerCase().includes(backend.host.toLowerCase())) return value;
  if (lower === 'location' && typeof value === 'string' && value.startsWith(backend.origin)) {
    return value.slice(backend.origin.length) || '/';
  }
  return null;
}

type HeaderAccess = Pick<ServerResponse, 'getHeaderNames' | 'getHeader' | 'setHeader' | 'removeHeader' | 'hasHeader'>;

/** Cleans the headers already set on `response` and adds missing security headers. */
export function cleanResponse(response: HeaderAccess, backend: URL): void {
  for (const { key, value } of FIXED_SECURITY_HEADERS) {
    if (!response.hasHeader(key)) response.setHeader(key, value);
  }
  if (!response.hasHeader('content-security-policy')) response.setHeader('Content-Security-Policy', NON_DOCUMENT_CSP);
  for (const name of response.getHeaderNames()) {
    const value = response.getHeader(name);
    if (value === undefined) continue;
    const cleaned = cleanHeader(name, value, backend);
    if (cleaned === null) response.removeHeader(name);
    else if (cleaned !== value) response.setHeader(name, cleaned);
  }
}

export function cleanHeadersObject(headers: OutgoingHttpHeaders, backend: URL): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const cleaned = cleanHeader(name, value, backend);
    if (cleaned !== null) out[name] = cleaned;
  }
  return out;
}

const INSTALLED = Symbol.for('app.frontend.responseHeaders');
type GlobalWithFlag = typeof globalThis & { [INSTALLED]?: boolean };
type WriteHead = ServerResponse['writeHead'];

export function installResponseHeaderCleaning(): void {
  const g = globalThis as GlobalWithFlag;
  if (g[INSTALLED]) return;
  g[INSTALLED] = true;
  const backend = backendOrigin(process.env.BACKEND_URL);
  diagnosticsChannel.subscribe('http.server.request.start', (message) => {
    const { response } = message as { response: ServerResponse };
    const writeHead = response.writeHead as (...args: unknown[]) => ServerResponse;
    response.writeHead = function cleanedWriteHead(this: ServerResponse, ...args: unknown[]): ServerResponse {
      cleanResponse(this, backend);
      // writeHead(status, [message], [headers]): headers as an object or a flat [name, value, ...] array.
      const last = args.length > 1 ? args[args.length - 1] : undefined;
      if (Array.isArray(last)) {
        const kept: unknown[] = [];
        for (let i = 0; i + 1 < last.length; i += 2) {
          const cleaned = cleanHeader(String(last[i]), last[i + 1] as OutgoingHttpHeader, backend);
          if (cleaned !== null) kept.push(last[i], cleaned);
        }
        args[args.length - 1] = kept;
      } else if (last && typeof last === 'object') {
        args[args.length - 1] = cleanHeadersObject(last as OutgoingHttpHeaders, backend);
      }
      return writeHead.apply(this, args);
    } as WriteHead;
  });
}
