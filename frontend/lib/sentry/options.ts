// Pure helpers shared by the client, server and edge Sentry init (values come from env vars,
// read by the callers: NEXT_PUBLIC_* must be read literally to be inlined into the browser bundle).

export const DEFAULT_SPOTLIGHT_URL = 'http://127.0.0.1:8969/stream';

/** A sample rate from an env string, clamped to 0..1; the fallback when unset or not a number. */
export function sampleRate(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const rate = Number(value);
  if (!Number.isFinite(rate)) return fallback;
  return Math.min(1, Math.max(0, rate));
}

/**
 * Spotlight (the local Sentry) when there is no DSN, outside production. An explicit URL wins;
 * "off"/"false" disables it.
 */
export function spotlightUrl(dsn: string | undefined, environment: string, explicit: string | undefined): string | undefined {
  const wanted = explicit?.trim();
  if (wanted === 'off' || wanted === 'false' || wanted === '0') return undefined;
  if (wanted) return wanted;
  if (dsn || environment === 'production') return undefined;
  return DEFAULT_SPOTLIGHT_URL;
}

/**
 * What the SDK may collect (SDK v11 `dataCollection`, which replaced `sendDefaultPii`).
 * No bodies (signup and login carry passwords), no cookies (`ns_session` is the credential),
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
  urlQueryParams: true,
};
