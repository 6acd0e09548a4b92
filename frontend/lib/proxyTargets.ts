// Where proxy.ts forwards same-origin requests, decided at request time from the server's
// environment. Pure functions, unit-tested.
import { SPOTLIGHT_RELAY_PATH } from './sentry/options';

export { SPOTLIGHT_RELAY_PATH };

export const DEFAULT_BACKEND_URL = 'http://127.0.0.1:8000';

/** Our own route handlers under /api that must not be proxied. */
const LOCAL_API_ROUTES: ReadonlySet<string> = new Set(['/api/metrics']);

export function backendOrigin(value: string | undefined): URL {
  const raw = value && value.trim() !== '' ? value.trim() : DEFAULT_BACKEND_URL;
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`BACKEND_URL must be http(s): ${raw}`);
  return url;
}

/** The backend URL for a proxied request, or null for paths the frontend serves itself. */
export function backendTarget(pathname: string, search: string, origin: URL): URL | null {
  if (pathname !== '/api' && !pathname.startsWith('/api/')) return null;
  if (LOCAL_API_ROUTES.has(pathname.replace(/\/+$/, ''))) return null;
  const base = origin.pathname.replace(/\/+$/, '');
  return new URL(`${origin.origin}${base}${pathname}${search}`);
}

/** The backend's own default request-body limit (backend MAX_BODY_BYTES); the same variable here. */
export const DEFAULT_MAX_BODY_BYTES = 65536;

export function maxBodyBytes(value: string | undefined): number {
  const parsed = Number(value);
  return value && Number.isInteger(parsed) && parsed > 0 ? parsed : DEFAULT_MAX_BODY_BYTES;
}

export interface BodyRefusal {
  status: 411 | 413 | 400;
  detail: string;
}

/**
 * Bodies the backend would refuse are refused here, before they are streamed: Next's proxy
 * answers 500 ("write EPIPE") when the backend closes the connection on a large body, so the
 * client gets a 413 from us instead. A body without a length (chunked) cannot be bounded
 * before it is forwarded: 411.
 */
export function refuseBody(method: string, contentLength: string | null, transferEncoding: string | null, limit: number): BodyRefusal | null {
  if (contentLength !== null) {
    const length = Number(contentLength);
    if (!/^\d+$/.test(contentLength.trim()) || !Number.isSafeInteger(length)) return { status: 400, detail: 'Invalid Content-Length' };
    return length > limit ? { status: 413, detail: 'Request body too large' } : null;
  }
  if (transferEncoding !== null && !['GET', 'HEAD'].includes(method)) return { status: 411, detail: 'Content-Length required' };
  return null;
}
