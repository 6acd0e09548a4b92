// What leaves the frontend in a Sentry envelope: URLs (span names, span attributes such as
// http.target / url.full / url.query, breadcrumbs, the request of an event, Referer) with secret
// query values and e-mail addresses removed, and only a short list of request headers.
//
// The key list is the backend's (backend/app/core/sentry.py: sentry_sdk's DEFAULT_DENYLIST plus
// EXTRA_DENYLIST, exact keys; backend/app/core/logging.py: SECRET_KEY_PARTS, substrings);
// tests/scrub.test.ts reads both files and fails when a backend key is not scrubbed here.
// The SDK's own `dataCollection.urlQueryParams` filter is kept as a first layer, but it only
// sees URLs the SDK collected itself, matches key snippets only and leaves e-mail values alone,
// so these hooks are written by hand.

import { PRODUCT_SESSION_COOKIE } from '../product';

export const FILTERED = '[Filtered]';
export const EMAIL_REDACTED = '[email]';

/** Exact keys (lower-cased; `-` and `_` are treated alike). */
const DENYLIST_KEYS = [
  // sentry_sdk.scrubber.DEFAULT_DENYLIST
  'password', 'passwd', 'secret', 'api_key', 'apikey', 'auth', 'credentials', 'mysql_pwd', 'privatekey',
  'private_key', 'token', 'session', 'csrftoken', 'sessionid', 'x_csrftoken', 'x_forwarded_for', 'set_cookie',
  'cookie', 'authorization', 'proxy-authorization', 'x_api_key', 'aiohttp_session', 'connect.sid', 'csrf_token',
  'csrf', '_csrf', '_csrf_token', 'phpsessid', '_session', 'symfony', 'user_session', '_xsrf', 'xsrf-token',
  // sentry_sdk.scrubber.DEFAULT_PII_DENYLIST
  'x_real_ip', 'ip_address', 'remote_addr',
  // backend EXTRA_DENYLIST
  'new_password', 'old_password', 'password_hash', 'access_token', 'refresh_token', 'id_token', 'session_token',
  PRODUCT_SESSION_COOKIE, 'session_id', 'cookies', 'x-api-key', 'api-key', 'email', 'e-mail', 'email_address',
  'mixpanel_token', 'card_number', 'cvc',
];

/** Substrings that make any key secret (backend SECRET_KEY_PARTS, plus a few the SDK also uses). */
const SECRET_KEY_PARTS = [
  'password', 'passwd', 'secret', 'token', 'authorization', 'cookie', 'session', 'api_key', 'apikey', 'dsn',
  'credit_card', 'card_number',
  'csrf', 'xsrf', 'email', 'e-mail', 'mail_address', 'bearer', 'credential', 'private_key', 'jwt',
];

/** For the SDK's own `urlQueryParams: { deny }` filter (it matches substrings of keys). */
export const SECRET_QUERY_KEY_PARTS: readonly string[] = [...SECRET_KEY_PARTS, 'auth', 'csrf', 'cvc', PRODUCT_SESSION_COOKIE];

const normaliseKey = (key: string): string => key.trim().toLowerCase().replace(/-/g, '_');
const DENYLIST = new Set(DENYLIST_KEYS.map(normaliseKey));

export function isSecretKey(key: string): boolean {
  const lowered = normaliseKey(key);
  if (DENYLIST.has(lowered)) return true;
  return SECRET_KEY_PARTS.some((part) => lowered.includes(normaliseKey(part)));
}

// An e-mail address, also with its @ percent-encoded once (%40) or twice (%2540).
const EMAIL_RE = /[A-Za-z0-9._%+-]+(?:@|%40|%2540)[A-Za-z0-9.-]+\.[A-Za-z]{2,}/gi;
const BEARER_RE = /\bbearer\s+[A-Za-z0-9._~+/=-]+/gi;
// key=value pairs of a query string or fragment, anywhere in a string: at its start (url.query),
// after ? & # ; (a URL inside a span name, a breadcrumb message, a Referer).
const PAIR_RE = /(^|[?&#;])([^=&#?;\s"'<>]+)=([^&#\s"'<>]*)/g;

function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/** E-mail addresses, bearer credentials and secret query/fragment values out of any string. */
export function scrubText(value: string): string {
  let out = value;
  if (out.includes('=')) {
    out = out.replace(PAIR_RE, (whole, sep: string, key: string) => (isSecretKey(decodeKey(key)) ? `${sep}${key}=${FILTERED}` : whole));
  }
  if (/@|%40|%2540/i.test(out)) out = out.replace(EMAIL_RE, EMAIL_REDACTED);
  if (/earer/i.test(out)) out = out.replace(BEARER_RE, `Bearer ${FILTERED}`);
  return out;
}

/** A query string, with or without its leading "?" (e.g. the url.query attribute). */
export const scrubQuery = scrubText;
/** A URL, absolute or relative: its path (e-mails), query and fragment. */
export const scrubUrl = scrubText;

/** Request headers that may be sent to Sentry (values still scrubbed); everything else is dropped. */
export const ALLOWED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'accept', 'content-type', 'content-length', 'user-agent', 'x-request-id', 'sentry-trace', 'baggage', 'referer', 'host',
]);

/** Only the Sentry items of a W3C baggage header (sentry-trace_id, sentry-sample_rate, ...). */
export function sentryBaggageOnly(value: string): string {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.toLowerCase().startsWith('sentry-'))
    .map((item) => scrubText(item))
    .join(',');
}

export function scrubHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!ALLOWED_REQUEST_HEADERS.has(lower) || raw === undefined || raw === null) continue;
    const value = Array.isArray(raw) ? raw.join(', ') : String(raw);
    if (lower === 'baggage') {
      const kept = sentryBaggageOnly(value);
      if (kept) out[name] = kept;
    } else {
      out[name] = scrubText(value);
    }
  }
  return out;
}

/** Attribute keys naming a request/response header: kept only for allowed, non-secret headers. */
const HEADER_ATTRIBUTE = /^(?:http\.(?:request|response)\.header\.)(.+)$/i;

/** `fn` applied to every string of a value: a plain string, an array, or a span attribute `{ value, type }`. */
function mapStrings(value: unknown, fn: (text: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return fn(value);
  if (value === null || typeof value !== 'object' || depth > 4) return value;
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, fn, depth + 1));
  const attribute = value as Record<string, unknown>;
  return 'value' in attribute ? { ...attribute, value: mapStrings(attribute.value, fn, depth + 1) } : value;
}

/** Every string in a value, recursively; values under secret keys become [Filtered]. */
export function scrubDeep<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return scrubText(value) as T;
  if (value === null || typeof value !== 'object' || depth > 12) return value;
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const header = HEADER_ATTRIBUTE.exec(key);
    if (header) {
      const name = (header[1] ?? '').toLowerCase();
      if (!ALLOWED_REQUEST_HEADERS.has(name)) continue;
      out[key] = name === 'baggage' ? mapStrings(item, sentryBaggageOnly) : scrubDeep(item, depth + 1);
      continue;
    }
    out[key] = isSecretKey(key) && item !== null && item !== undefined ? FILTERED : scrubDeep(item, depth + 1);
  }
  return out as T;
}

// The hooks, in the shapes the SDK hands them over. Typed structurally so that this module stays
// free of SDK imports (unit-tested without the SDK).

interface StreamedSpanLike {
  name: string;
  attributes?: Record<string, unknown>;
}

/** `beforeSendSpan` (span streaming, the SDK v11 default). */
export function scrubStreamedSpan<S extends StreamedSpanLike>(span: S): S {
  span.name = scrubText(span.name);
  if (span.attributes) span.attributes = scrubDeep(span.attributes);
  return span;
}

interface StaticSpanLike {
  description?: string;
  data?: Record<string, unknown>;
}

export function scrubStaticSpan<S extends StaticSpanLike>(span: S): S {
  if (typeof span.description === 'string') span.description = scrubText(span.description);
  if (span.data) span.data = scrubDeep(span.data);
  return span;
}

interface BreadcrumbLike {
  message?: string;
  data?: Record<string, unknown>;
}

export function scrubBreadcrumb<B extends BreadcrumbLike>(breadcrumb: B): B {
  if (typeof breadcrumb.message === 'string') breadcrumb.message = scrubText(breadcrumb.message);
  if (breadcrumb.data) breadcrumb.data = scrubDeep(breadcrumb.data);
  return breadcrumb;
}

interface RequestLike {
  url?: string;
  query_string?: unknown;
  headers?: Record<string, unknown>;
  cookies?: unknown;
  data?: unknown;
  env?: unknown;
}

interface EventLike {
  transaction?: string;
  message?: string;
  request?: RequestLike;
  breadcrumbs?: BreadcrumbLike[];
  spans?: StaticSpanLike[];
  contexts?: Record<string, unknown>;
  extra?: Record<string, unknown>;
  tags?: Record<string, unknown>;
  exception?: unknown;
  logentry?: unknown;
}

/** Error and transaction events: request, transaction name, spans, breadcrumbs, contexts. */
export function scrubEvent<E extends EventLike>(event: E): E {
  if (typeof event.transaction === 'string') event.transaction = scrubText(event.transaction);
  if (typeof event.message === 'string') event.message = scrubText(event.message);
  const request = event.request;
  if (request) {
    if (typeof request.url === 'string') request.url = scrubText(request.url);
    if (request.query_string !== undefined) request.query_string = scrubQueryString(request.query_string);
    if (request.headers) request.headers = scrubHeaders(request.headers);
    delete request.cookies;
    delete request.data;
    delete request.env;
  }
  if (event.breadcrumbs) event.breadcrumbs = event.breadcrumbs.map(scrubBreadcrumb);
  if (event.spans) event.spans = event.spans.map(scrubStaticSpan);
  for (const key of ['contexts', 'extra', 'tags', 'exception', 'logentry'] as const) {
    if (event[key] !== undefined) (event as Record<string, unknown>)[key] = scrubDeep(event[key]);
  }
  return event;
}

function scrubQueryString(value: unknown): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (Array.isArray(value)) {
    return value.map((pair) =>
      Array.isArray(pair) && typeof pair[0] === 'string'
        ? [pair[0], isSecretKey(pair[0]) ? FILTERED : scrubDeep(pair[1])]
        : scrubDeep(pair),
    );
  }
  return scrubDeep(value);
}

// rrweb event types that carry URLs: Meta (4: the page's href) and Custom (5: Replay's
// performance spans and breadcrumbs). DOM snapshots are masked by the Replay options and large,
// so they are left alone.
const RRWEB_META = 4;
const RRWEB_CUSTOM = 5;

/** Session Replay's `beforeAddRecordingEvent`. */
export function scrubRecordingEvent<R extends { type?: unknown }>(event: R): R {
  return event.type === RRWEB_META || event.type === RRWEB_CUSTOM ? scrubDeep(event) : event;
}
