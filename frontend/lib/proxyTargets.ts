// Where proxy.ts forwards same-origin requests, decided at request time from the server's
// environment. Pure functions, unit-tested.
import { SPOTLIGHT_RELAY_PATH, spotlightUrl } from './sentry/options';

export { SPOTLIGHT_RELAY_PATH };
export const SENTRY_ENVELOPE_CONTENT_TYPE = 'application/x-sentry-envelope';

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

/**
 * Same-origin relay for the browser's Spotlight envelopes (the SDK's `tunnel`): the server
 * forwards them to SENTRY_SPOTLIGHT_URL read at request time, so one build works with any
 * Spotlight port and the browser makes no cross-origin request. Off when a DSN is configured
 * or in production: then the relay answers 404.
 */
export function spotlightRelayTarget(env: {
  SENTRY_DSN?: string | undefined;
  ENVIRONMENT?: string | undefined;
  SENTRY_SPOTLIGHT_URL?: string | undefined;
}): URL | null {
  const url = spotlightUrl(env.SENTRY_DSN || undefined, env.ENVIRONMENT || 'development', env.SENTRY_SPOTLIGHT_URL);
  if (!url) return null;
  const parsed = new URL(url);
  return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed : null;
}
