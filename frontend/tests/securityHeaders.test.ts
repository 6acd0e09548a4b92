import { describe, expect, it } from 'vitest';
import { FIXED_SECURITY_HEADERS, NON_DOCUMENT_CSP, documentCsp, newNonce, sentryIngestOrigin } from '@/lib/security/headers';
import { cleanHeader, cleanHeadersObject, cleanResponse } from '@/lib/server/responseHeaders';
import { metricsAccess } from '@/lib/metrics/access';

const directives = (csp: string) =>
  Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));

describe('security headers', () => {
  it('forbid framing and sniffing, and limit the Referer', () => {
    const fixed = Object.fromEntries(FIXED_SECURITY_HEADERS.map((h) => [h.key, h.value]));
    expect(fixed['X-Frame-Options']).toBe('DENY');
    expect(fixed['X-Content-Type-Options']).toBe('nosniff');
    expect(['same-origin', 'strict-origin', 'strict-origin-when-cross-origin', 'no-referrer']).toContain(fixed['Referrer-Policy']);
    expect(directives(NON_DOCUMENT_CSP)['frame-ancestors']).toEqual(["'none'"]);
  });

  it('documents: nonce + strict-dynamic, no inline or eval in production, the tunnel and Replay worker allowed', () => {
    const csp = directives(documentCsp({ nonce: 'abc', development: false, production: false }));
    expect(csp['script-src']).toEqual(["'self'", "'nonce-abc'", "'strict-dynamic'"]);
    expect(csp['style-src']).toEqual(["'self'", "'nonce-abc'"]);
    expect(csp['connect-src']).toEqual(["'self'"]);
    expect(csp['worker-src']).toEqual(["'self'", 'blob:']);
    expect(csp['frame-ancestors']).toEqual(["'none'"]);
    expect(csp['object-src']).toEqual(["'none'"]);
    expect(JSON.stringify(csp)).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp['upgrade-insecure-requests']).toBeUndefined();
  });

  it('adds the Sentry ingest host with a real DSN, eval only under next dev, HTTPS upgrade in production', () => {
    const csp = directives(
      documentCsp({ nonce: 'n', development: true, production: true, sentryDsn: 'https://key@o1.ingest.sentry.io/2' }),
    );
    expect(csp['connect-src']).toEqual(["'self'", 'https://o1.ingest.sentry.io']);
    expect(csp['script-src']).toContain("'unsafe-eval'");
    expect(csp['upgrade-insecure-requests']).toEqual([]);
    expect(sentryIngestOrigin('not a dsn')).toBeNull();
  });

  it('makes a fresh 128-bit nonce each time', () => {
    const a = newNonce();
    expect(a).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(newNonce()).not.toBe(a);
  });
});

describe('responses never name the backend', () => {
  const backend = new URL('http://127.0.0.1:8000');
  it('drops Next\'s routing headers and anything naming the backend host', () => {
    expect(cleanHeader('x-middleware-rewrite', 'http://127.0.0.1:8000/api/me', backend)).toBeNull();
    expect(cleanHeader('X-Middleware-Next', '1', backend)).toBeNull();
    expect(cleanHeader('x-upstream', '127.0.0.1:8000', backend)).toBeNull();
    expect(cleanHeader('x-request-id', 'abc', backend)).toBe('abc');
    expect(cleanHeader('set-cookie', ['s=x; HttpOnly'], backend)).toEqual(['s=x; HttpOnly']);
  });

  it('turns a backend redirect into a same-origin one', () => {
    expect(cleanHeader('location', 'http://127.0.0.1:8000/api/projects/', backend)).toBe('/api/projects/');
    expect(cleanHeader('location', '/login', backend)).toBe('/login');
    expect(cleanHeadersObject({ 'x-middleware-rewrite': 'x', 'content-type': 'application/json' }, backend)).toEqual({
      'content-type': 'application/json',
    });
  });
});

describe('who may read /api/metrics', () => {
  const base = { token: undefined, environment: 'development', authorization: null, peer: '127.0.0.1' };
  it('without a token: loopback scrapers only, off in production', () => {
    expect(metricsAccess(base)).toEqual({ allowed: true });
    expect(metricsAccess({ ...base, peer: '::1' })).toEqual({ allowed: true });
    expect(metricsAccess({ ...base, peer: '203.0.113.9' })).toMatchObject({ allowed: false, status: 403 });
    expect(metricsAccess({ ...base, peer: '127.0.0.2' })).toMatchObject({ allowed: false, status: 403 });
    expect(metricsAccess({ ...base, peer: null })).toMatchObject({ allowed: false, status: 403 });
    expect(metricsAccess({ ...base, environment: 'production' })).toMatchObject({ allowed: false, status: 404 });
  });

  it('with METRICS_TOKEN: the bearer token, from anywhere; nothing else', () => {
    const withToken = { ...base, token: 's3cret-metrics', peer: '203.0.113.9' };
    expect(metricsAccess({ ...withToken, authorization: 'Bearer s3cret-metrics' })).toEqual({ allowed: true });
    expect(metricsAccess({ ...withToken, environment: 'production', authorization: 'bearer s3cret-metrics' })).toEqual({ allowed: true });
    expect(metricsAccess({ ...withToken, authorization: 'Bearer wrong' })).toMatchObject({ allowed: false, status: 401 });
    expect(metricsAccess({ ...withToken, peer: '127.0.0.1' })).toMatchObject({ allowed: false, status: 401 });
  });
});

describe('cleanResponse', () => {
  it('fills in missing security headers and drops internal ones on any response', () => {
    const headers = new Map<string, unknown>([['x-middleware-rewrite', 'http://127.0.0.1:8000/api/me'], ['location', '/api/projects']]);
    const response = {
      getHeaderNames: () => [...headers.keys()],
      getHeader: (name: string) => headers.get(name.toLowerCase()) as string | undefined,
      setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), value),
      removeHeader: (name: string) => headers.delete(name.toLowerCase()),
      hasHeader: (name: string) => headers.has(name.toLowerCase()),
    };
    cleanResponse(response as never, new URL('http://127.0.0.1:8000'));
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('content-security-policy')).toBe(NON_DOCUMENT_CSP);
    expect(headers.has('x-middleware-rewrite')).toBe(false);
    expect(headers.get('location')).toBe('/api/projects');
  });
});
