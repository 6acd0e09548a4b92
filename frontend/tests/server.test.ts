import { describe, expect, it } from 'vitest';
import { backendOrigin, backendTarget, maxBodyBytes, refuseBody } from '@/lib/proxyTargets';
import { peerAddress, setForwardedFor } from '@/lib/server/forwardedFor';

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

describe('setForwardedFor', () => {
  it('sets exactly the peer address, whatever the client claimed', () => {
    const headers: Record<string, string | string[] | undefined> = {
      'x-forwarded-for': '203.0.113.9, 6.6.6.6',
      'x-real-ip': '203.0.113.10',
      forwarded: 'for=203.0.113.11',
      accept: 'text/html',
    };
    setForwardedFor(headers, '::ffff:198.51.100.7');
    expect(headers).toEqual({ 'x-forwarded-for': '198.51.100.7', accept: 'text/html' });
  });

  it('sets it also when the client sent none, and keeps IPv6 peers', () => {
    const headers: Record<string, string | string[] | undefined> = {};
    setForwardedFor(headers, '::1');
    expect(headers).toEqual({ 'x-forwarded-for': '::1' });
  });

  it('sends the proxy secret from the server environment and never the client\'s copy', () => {
    const spoofed: Record<string, string | string[] | undefined> = { 'x-trusted-proxy-secret': 'guessed' };
    setForwardedFor(spoofed, '127.0.0.1');
    expect(spoofed).toEqual({ 'x-forwarded-for': '127.0.0.1' });
    const headers: Record<string, string | string[] | undefined> = { 'x-trusted-proxy-secret': 'guessed' };
    setForwardedFor(headers, '127.0.0.1', 's3cr3t');
    expect(headers).toEqual({ 'x-forwarded-for': '127.0.0.1', 'x-trusted-proxy-secret': 's3cr3t' });
  });

  it('drops the client\'s value even when the peer is unknown', () => {
    const headers: Record<string, string | string[] | undefined> = { 'x-forwarded-for': '6.6.6.6' };
    setForwardedFor(headers, undefined);
    expect(headers).toEqual({});
    expect(peerAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
  });
});

describe('refuseBody (bodies the backend would refuse never reach it)', () => {
  const limit = maxBodyBytes(undefined);

  it('defaults to the backend\'s own limit and reads MAX_BODY_BYTES', () => {
    expect(limit).toBe(65536);
    expect(maxBodyBytes('1048576')).toBe(1048576);
    expect(maxBodyBytes('lots')).toBe(65536);
  });

  it('answers 413 above the limit, lets bodies within it through', () => {
    expect(refuseBody('POST', String(1.5 * 1024 * 1024), null, limit)).toEqual({ status: 413, detail: 'Request body too large' });
    expect(refuseBody('POST', String(limit + 1), null, limit)?.status).toBe(413);
    expect(refuseBody('POST', String(limit), null, limit)).toBeNull();
    expect(refuseBody('GET', null, null, limit)).toBeNull();
  });

  it('refuses a body it cannot bound before forwarding it', () => {
    expect(refuseBody('POST', null, 'chunked', limit)?.status).toBe(411);
    expect(refuseBody('POST', '12abc', null, limit)?.status).toBe(400);
  });
});
