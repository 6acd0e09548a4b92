import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  EMAIL_REDACTED,
  FILTERED,
  isSecretKey,
  scrubBreadcrumb,
  scrubEvent,
  scrubRecordingEvent,
  scrubStaticSpan,
  scrubStreamedSpan,
  scrubText,
  sentryBaggageOnly,
} from '@/lib/sentry/scrub';
import { SCRUBBING_HOOKS } from '@/lib/sentry/options';
import { PRODUCT_SESSION_COOKIE } from '@/lib/product';

const PASSWORD = 'Canary-Pw-0123456789abcdef';
const EMAIL = 'canary-1a2b3c@example.com';
const TOKEN = 'tok_5f0c9e1d';

function assertClean(value: unknown): void {
  const text = JSON.stringify(value);
  for (const secret of [PASSWORD, EMAIL, encodeURIComponent(EMAIL), TOKEN, 'canary-1a2b3c%2540example.com']) {
    expect(text, `${secret} in ${text}`).not.toContain(secret);
  }
}

describe('scrubText', () => {
  it('filters secret query values by key and keeps the others', () => {
    expect(scrubText(`/api/billing/plan?password=${PASSWORD}&page=2`)).toBe(`/api/billing/plan?password=${FILTERED}&page=2`);
    expect(scrubText(`token=${TOKEN}&limit=20`)).toBe(`token=${FILTERED}&limit=20`);
    expect(scrubText(`https://a.test/x?a=1#access_token=${TOKEN}`)).toBe(`https://a.test/x?a=1#access_token=${FILTERED}`);
    expect(scrubText(`GET /api/me?X-Auth-Token=${TOKEN}`)).toBe(`GET /api/me?X-Auth-Token=${FILTERED}`);
    expect(scrubText(`/x?new%5Fpassword=${PASSWORD}`)).toBe(`/x?new%5Fpassword=${FILTERED}`);
  });

  it('removes e-mail addresses, also percent-encoded, wherever they are', () => {
    expect(scrubText(`/api/projects?owner=${EMAIL}`)).toBe(`/api/projects?owner=${EMAIL_REDACTED}`);
    expect(scrubText(`/api/projects?owner=${encodeURIComponent(EMAIL)}`)).toBe(`/api/projects?owner=${EMAIL_REDACTED}`);
    expect(scrubText('/u/canary-1a2b3c%2540example.com/x')).toBe(`/u/${EMAIL_REDACTED}/x`);
    expect(scrubText(`login failed for ${EMAIL}`)).toBe(`login failed for ${EMAIL_REDACTED}`);
  });

  it('removes bearer credentials and leaves harmless text alone', () => {
    expect(scrubText(`Authorization: Bearer ${TOKEN}`)).toBe(`Authorization: Bearer ${FILTERED}`);
    expect(scrubText('/projects/5f0c?tab=tasks')).toBe('/projects/5f0c?tab=tasks');
    expect(scrubText('a = b')).toBe('a = b');
  });
});

describe('isSecretKey agrees with the backend denylist', () => {
  // The backend is the one definition of the key list; this reads it from backend/app.
  const backendApp = fileURLToPath(new URL('../../backend/app/', import.meta.url));
  const python = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? python(join(dir, entry.name)) : entry.name.endsWith('.py') ? [join(dir, entry.name)] : [],
    );
  const source = python(backendApp).map((file) => readFileSync(file, 'utf8')).join('\n');
  const listed = (name: string): string[] => {
    const match = new RegExp(`${name}\\s*(?::[^=]*)?=\\s*[\\[(]([\\s\\S]*?)[\\])]`).exec(source);
    expect(match, `${name} in backend/app`).not.toBeNull();
    return [...(match?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? '');
  };

  it('scrubs every exact key and every key part the backend scrubs', () => {
    const extra = listed('EXTRA_DENYLIST');
    const parts = listed('SECRET_KEY_PARTS');
    expect(extra.length).toBeGreaterThan(10);
    expect(parts.length).toBeGreaterThan(5);
    for (const key of extra) expect(isSecretKey(key), key).toBe(true);
    for (const part of parts) expect(isSecretKey(`x_${part}_y`), part).toBe(true);
  });

  it('keeps ordinary keys', () => {
    for (const key of ['page', 'limit', 'offset', 'tab', 'project_id', 'request_id', 'name', 'url.path']) {
      expect(isSecretKey(key), key).toBe(false);
    }
  });
});

describe('span, breadcrumb and event hooks', () => {
  it('scrubs a streamed server span (the Proxy span with http.target, url.full, url.query)', () => {
    const span = scrubStreamedSpan({
      name: `middleware GET /api/billing/plan?password=${PASSWORD}&email=${EMAIL}`,
      attributes: {
        'http.target': `/api/billing/plan?password=${PASSWORD}&email=${EMAIL}`,
        'url.full': `http://127.0.0.1:8000/api/billing/plan?password=${FILTERED}&email=${encodeURIComponent(EMAIL)}`,
        'url.query': `password=${FILTERED}&q=${encodeURIComponent(EMAIL)}`,
        'http.request.header.x-auth-token': TOKEN,
        'http.request.header.baggage': `sentry-trace_id=abc,canary=${TOKEN}`,
        'http.request.header.accept': 'application/json',
        'http.request.header.user-agent': { value: [`agent ${EMAIL}`], type: 'array' },
        'http.request.header.x-canary': { value: [TOKEN], type: 'array' },
        'http.response.status_code': 200,
        'sentry.op': { value: 'http.server' },
      },
    });
    assertClean(span);
    expect(span.attributes['http.target']).toBe(`/api/billing/plan?password=${FILTERED}&email=${FILTERED}`);
    expect(span.attributes['url.query']).toBe(`password=${FILTERED}&q=${EMAIL_REDACTED}`);
    expect(span.attributes['http.request.header.x-auth-token']).toBeUndefined();
    expect(span.attributes['http.request.header.baggage']).toBe('sentry-trace_id=abc');
    expect(span.attributes['http.request.header.accept']).toBe('application/json');
    expect(span.attributes['http.request.header.user-agent']).toEqual({ value: [`agent ${EMAIL_REDACTED}`], type: 'array' });
    expect(span.attributes['http.request.header.x-canary']).toBeUndefined();
    expect(span.attributes['http.response.status_code']).toBe(200);
    expect(span.attributes['sentry.op']).toEqual({ value: 'http.server' });
  });

  it('keeps only Sentry baggage items in span attributes, in the attribute shape the SDK uses', () => {
    const span = scrubStreamedSpan({
      name: 'GET /pricing',
      attributes: { 'http.request.header.baggage': { value: [`sentry-trace_id=abc,canary=${TOKEN}`], type: 'array' } },
    });
    expect(span.attributes['http.request.header.baggage']).toEqual({ value: ['sentry-trace_id=abc'], type: 'array' });
  });

  it('scrubs static spans and breadcrumbs (fetch, navigation, console)', () => {
    assertClean(scrubStaticSpan({ description: `GET /api/x?token=${TOKEN}`, data: { 'url.full': `/x?e=${EMAIL}` } }));
    assertClean(scrubBreadcrumb({ category: 'fetch', data: { url: `/api/x?password=${PASSWORD}`, method: 'GET' } }));
    assertClean(scrubBreadcrumb({ category: 'navigation', data: { from: `/login?email=${EMAIL}`, to: '/dashboard' } }));
    assertClean(scrubBreadcrumb({ category: 'console', message: `failed for ${EMAIL}` }));
    expect(scrubBreadcrumb({ category: 'navigation', data: { to: '/projects/1?tab=a' } }).data.to).toBe('/projects/1?tab=a');
  });

  it('scrubs the request of an event: URL, query string, Referer, custom headers, baggage, cookies', () => {
    const event = scrubEvent({
      transaction: `GET /api/billing/plan?password=${PASSWORD}`,
      request: {
        url: `http://127.0.0.1:3000/pricing?email=${EMAIL}`,
        query_string: `password=${PASSWORD}&email=${EMAIL}&page=1`,
        cookies: { [PRODUCT_SESSION_COOKIE]: TOKEN },
        headers: {
          Referer: `http://127.0.0.1:3000/login?email=${EMAIL}&password=${PASSWORD}&token=${TOKEN}`,
          'X-Auth-Token': TOKEN,
          'X-CSRF-Token': TOKEN,
          'X-Canary': TOKEN,
          baggage: `sentry-environment=development,other=${TOKEN}`,
          'User-Agent': 'Chromium',
        },
      },
      breadcrumbs: [{ message: `GET /api/x?token=${TOKEN}` }],
      spans: [{ description: `GET /api/x?email=${EMAIL}`, data: {} }],
      contexts: { trace: { data: { 'http.target': `/api/x?password=${PASSWORD}` } } },
    });
    assertClean(event);
    expect(event.request.headers).toEqual({
      Referer: `http://127.0.0.1:3000/login?email=${FILTERED}&password=${FILTERED}&token=${FILTERED}`,
      baggage: 'sentry-environment=development',
      'User-Agent': 'Chromium',
    });
    expect(event.request.query_string).toBe(`password=${FILTERED}&email=${FILTERED}&page=1`);
    expect(event.request.cookies).toBeUndefined();
  });

  it('scrubs query strings given as pairs', () => {
    const event = scrubEvent({ request: { query_string: [['password', PASSWORD], ['q', EMAIL], ['page', '2']] } });
    expect(event.request.query_string).toEqual([['password', FILTERED], ['q', EMAIL_REDACTED], ['page', '2']]);
  });

  it('scrubs Replay meta and custom events (URLs of page loads and fetches)', () => {
    assertClean(scrubRecordingEvent({ type: 4, data: { href: `http://127.0.0.1:3000/x?email=${EMAIL}` } }));
    assertClean(
      scrubRecordingEvent({ type: 5, data: { tag: 'performanceSpan', payload: { description: `/api/x?token=${TOKEN}` } } }),
    );
  });

  it('is what every runtime installs', () => {
    expect(SCRUBBING_HOOKS.beforeSendSpan).toBe(scrubStreamedSpan);
    expect(SCRUBBING_HOOKS.beforeBreadcrumb).toBe(scrubBreadcrumb);
    expect(SCRUBBING_HOOKS.beforeSend).toBe(scrubEvent);
    expect(sentryBaggageOnly('a=1, sentry-release=x')).toBe('sentry-release=x');
  });
});

describe('every Sentry init uses the hooks', () => {
  const root = fileURLToPath(new URL('../', import.meta.url));
  for (const file of ['instrumentation-client.ts', 'sentry.server.config.ts', 'sentry.edge.config.ts']) {
    it(file, () => {
      const text = readFileSync(join(root, file), 'utf8');
      expect(text).toMatch(/\.\.\.SCRUBBING_HOOKS/);
    });
  }
});
