import { describe, expect, it, vi } from 'vitest';

vi.mock('@sentry/nextjs', () => ({}));

import { isNextNavigationSignal, normaliseFrame } from '@/lib/sentry/browserClient';

describe('the browser client (lib/sentry/browserClient.ts)', () => {
  it('rewrites frames to app:///_next like @sentry/nextjs', () => {
    expect(normaliseFrame({ filename: 'http://127.0.0.1:3000/_next/static/chunks/0a%20b.js' }).filename).toBe(
      'app:///_next/static/chunks/0a b.js',
    );
    expect(normaliseFrame({ filename: 'https://example.test/_next/static/chunks/main-app-0123abcd.js:1:2' })).toEqual({
      filename: 'app:///_next/static/chunks/main-app-0123abcd.js:1:2',
      in_app: false,
    });
    expect(normaliseFrame({ filename: '<anonymous>' }).filename).toBe('<anonymous>');
  });

  it('drops Next redirect signals (also as a cause), nothing else', () => {
    const redirect = Object.assign(new Error('NEXT_REDIRECT'), { digest: 'NEXT_REDIRECT;replace;/login;307;' });
    expect(isNextNavigationSignal({}, { originalException: redirect })).toBe(true);
    expect(isNextNavigationSignal({ exception: { values: [{ value: 'NEXT_REDIRECT' }] } })).toBe(true);
    expect(isNextNavigationSignal({}, { originalException: new Error('wrapped', { cause: redirect }) })).toBe(true);
    expect(isNextNavigationSignal({}, { originalException: Object.assign(new Error('x'), { digest: 'NEXT_HTTP_ERROR_FALLBACK;404' }) })).toBe(false);
    expect(isNextNavigationSignal({ exception: { values: [{ value: 'TypeError: x' }] } }, { originalException: new TypeError('x') })).toBe(false);
  });
});
