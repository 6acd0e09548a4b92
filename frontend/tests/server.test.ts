import { describe, expect, it } from 'vitest';
import { backendOrigin, backendTarget, spotlightRelayTarget } from '@/lib/proxyTargets';
import { appendForwardedFor } from '@/lib/server/forwardedFor';

describe('backendTarget', () => {
  const origin = backendOrigin('http://127.0.0.1:18000');

  it('proxies /api/* with the query string to BACKEND_URL', () => {
    expect(backendTarget('/api/projects', '?limit=20&offset=0', origin)?.toString()).toBe(
      'http://127.0.0.1:18000/api/projects?limit=20&offset=0',
    );
    expect(backendTarget('/api/auth/login', '', origin)?.toString()).toBe('http://127.0.0.1:18000/api/auth/login');
  });

  it('keeps our own /api/metrics and ignores non-API paths', () => {
    expect(backendTarget('/api/metrics', '', origin)).toBeNull();
    expect(backendTarget('/api/metrics/', '', origin)).toBeNull();
    expect(backendTarget('/dashboard', '', origin)).toBeNull();
    expect(backendTarget('/apix', '', origin)).toBeNull();
    expect(backendTarget('/api/metricsx', '', origin)?.pathname).toBe('/api/metricsx');
  });

  it('defaults to 127.0.0.1:8000, keeps a base path and refuses other schemes', () => {
    expect(backendOrigin(undefined).toString()).toBe('http://127.0.0.1:8000/');
    expect(backendOrigin('  ').toString()).toBe('http://127.0.0.1:8000/');
    expect(backendTarget('/api/me', '', backendOrigin('https://api.internal/base/'))?.toString()).toBe(
      'https://api.internal/base/api/me',
    );
    expect(() => backendOrigin('file:///etc/passwd')).toThrow(/http/);
  });
});

describe('appendForwardedFor', () => {
  it('adds the peer address, after anything the client claimed', () => {
    expect(appendForwardedFor(undefined, '203.0.113.7')).toBe('203.0.113.7');
    expect(appendForwardedFor('6.6.6.6', '::ffff:203.0.113.7')).toBe('6.6.6.6, 203.0.113.7');
    expect(appendForwardedFor(['1.1.1.1', '2.2.2.2'], '::1')).toBe('1.1.1.1, 2.2.2.2, ::1');
  });

  it('bounds a hostile header and keeps the newest hops', () => {
    const huge = Array.from({ length: 500 }, (_, i) => `10.0.${i % 250}.${i % 200}`).join(', ');
    const value = appendForwardedFor(huge, '203.0.113.7')!;
    expect(value.length).toBeLessThan(1100);
    expect(value.endsWith(', 203.0.113.7')).toBe(true);
  });

  it('leaves the header alone when the peer is unknown', () => {
    expect(appendForwardedFor('1.1.1.1', undefined)).toBe('1.1.1.1');
    expect(appendForwardedFor(undefined, undefined)).toBeUndefined();
  });
});

describe('spotlightRelayTarget', () => {
  it('relays to SENTRY_SPOTLIGHT_URL (or the default) only without a DSN and outside production', () => {
    expect(spotlightRelayTarget({ SENTRY_SPOTLIGHT_URL: 'http://127.0.0.1:18969/stream' })?.toString()).toBe(
      'http://127.0.0.1:18969/stream',
    );
    expect(spotlightRelayTarget({})?.toString()).toBe('http://127.0.0.1:8969/stream');
    expect(spotlightRelayTarget({ SENTRY_DSN: 'https://k@o1.ingest.sentry.io/1' })).toBeNull();
    expect(spotlightRelayTarget({ ENVIRONMENT: 'production' })).toBeNull();
    expect(spotlightRelayTarget({ SENTRY_SPOTLIGHT_URL: 'off' })).toBeNull();
  });
});
