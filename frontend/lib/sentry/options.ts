// Pure helpers shared by the client, server and edge Sentry init (values come from env vars,
// read by the callers: NEXT_PUBLIC_* must be read literally to be inlined into the browser bundle).
import { SECRET_QUERY_KEY_PARTS, scrubBreadcrumb, scrubEvent, scrubStreamedSpan } from './scrub';

export const DEFAULT_SPOTLIGHT_URL = 'http://127.0.0.1:8969/stream';

/** A sample rate from an env string, clamped to 0..1; the fallback when unset or not a number. */
export function sampleRate(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const rate = Number(value);
  if (!Number.isFinite(rate)) return fallback;
  return Math.min(1, Math.max(0, rate));
}

/**
 * Spotlight (the local Sentry) is used only when there is no DSN and we are not in production
 * (as in the backend: "SENTRY_DSN empty -> Spotlight"). `configured` is the sidecar URL
 * (SENTRY_SPOTLIGHT_URL); "off"/"false"/"0" disables it.
 */
export function spotlightUrl(dsn: string | undefined, environment: string, configured: string | undefined): string | undefined {
  const wanted = configured?.trim();
  if (wanted === 'off' || wanted === 'false' || wanted === '0') return undefined;
  if (dsn || environment === 'production') return undefined;
  return wanted || DEFAULT_SPOTLIGHT_URL;
}

/** Same-origin path the browser posts Spotlight envelopes to; proxy.ts relays it (see lib/proxyTargets.ts). */
export const SPOTLIGHT_RELAY_PATH = '/_spotlight';

/**
 * A syntactically valid DSN that is never contacted: with `tunnel` set, the SDK posts every
 * envelope to the tunnel. It exists because the SDK only propagates traces (sentry-trace,
 * baggage) and records replays when it has a DSN; Spotlight-only would break the
 * browser -> backend trace locally.
 */
export const LOCAL_SPOTLIGHT_DSN = 'http://spotlight@localhost/0';

export interface BrowserSentryTarget {
  dsn: string | undefined;
  tunnel: string | undefined;
}

/** Real DSN when given; else, outside production, Spotlight through the same-origin relay; else off. */
export function browserSentryTarget(dsn: string | undefined, environment: string, spotlightFlag: string | undefined): BrowserSentryTarget {
  if (dsn) return { dsn, tunnel: undefined };
  const off = ['off', 'false', '0'].includes((spotlightFlag ?? '').trim());
  if (off || environment === 'production') return { dsn: undefined, tunnel: undefined };
  return { dsn: LOCAL_SPOTLIGHT_DSN, tunnel: SPOTLIGHT_RELAY_PATH };
}

/**
 * What the SDK may collect (SDK v11 `dataCollection`, which replaced `sendDefaultPii`).
 * No bodies (signup and login carry passwords), no cookies (the session cookie is the credential),
 * no automatic user fields, and only harmless headers.
 */
export const DATA_COLLECTION = {
  // (plain object, not `as const`: the SDK's types want mutable arrays)
  userInfo: false,
  cookies: false,
  httpBodies: [] as never[],
  httpHeaders: {
    request: { allow: ['accept', 'content-type', 'user-agent', 'x-request-id', 'sentry-trace', 'baggage'] },
    response: { allow: ['content-type', 'x-request-id', 'x-cache', 'retry-after'] },
  },
  // First layer only (URLs the SDK collected itself, by key snippet); SCRUBBING_HOOKS does the rest.
  urlQueryParams: { deny: [...SECRET_QUERY_KEY_PARTS] },
};

/**
 * The last word on every envelope of every runtime (lib/sentry/scrub.ts): span names and
 * attributes (http.target, url.full, url.query, request headers), breadcrumbs, and the request,
 * spans and breadcrumbs of error events. SDK v11 streams spans (`traceLifecycle: 'stream'`, the
 * default), so every span, the segment span of a page load or request included, goes through
 * beforeSendSpan; there is no transaction event, and the SDK warns at start-up that a
 * `beforeSendTransaction` would be ignored. scrubEvent is the transaction hook to add if the
 * lifecycle is ever switched to 'static' (tests/scrub.test.ts covers it with transaction shapes).
 */
export const SCRUBBING_HOOKS = {
  beforeSend: scrubEvent,
  beforeSendSpan: scrubStreamedSpan,
  beforeBreadcrumb: scrubBreadcrumb,
};
