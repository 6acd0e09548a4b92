import { describe, expect, it } from 'vitest';
import { DEFAULT_SPOTLIGHT_URL, LOCAL_SPOTLIGHT_DSN, browserSentryTarget, sampleRate, spotlightUrl } from '@/lib/sentry/options';

describe('sampleRate', () => {
  it('parses, clamps and falls back', () => {
    expect(sampleRate('0.25', 0.1)).toBe(0.25);
    expect(sampleRate('7', 0.1)).toBe(1);
    expect(sampleRate('-1', 0.1)).toBe(0);
    expect(sampleRate('lots', 0.1)).toBe(0.1);
    expect(sampleRate(undefined, 0.01)).toBe(0.01);
    expect(sampleRate(' ', 1)).toBe(1);
  });
});

describe('spotlight selection', () => {
  it('uses Spotlight only without a DSN and outside production', () => {
    expect(spotlightUrl(undefined, 'development', undefined)).toBe(DEFAULT_SPOTLIGHT_URL);
    expect(spotlightUrl(undefined, 'development', 'http://127.0.0.1:18969/stream')).toBe('http://127.0.0.1:18969/stream');
    expect(spotlightUrl('https://k@o1.ingest.sentry.io/1', 'development', 'http://127.0.0.1:18969/stream')).toBeUndefined();
    expect(spotlightUrl(undefined, 'production', undefined)).toBeUndefined();
    expect(spotlightUrl(undefined, 'development', 'off')).toBeUndefined();
  });

  it('sends browser envelopes to the real DSN, else to the Spotlight relay outside production', () => {
    const dsn = 'https://k@o1.ingest.sentry.io/1';
    expect(browserSentryTarget(dsn, 'production', undefined)).toEqual({ dsn, tunnel: undefined });
    expect(browserSentryTarget(undefined, 'development', undefined)).toEqual({ dsn: LOCAL_SPOTLIGHT_DSN, tunnel: '/_spotlight' });
    expect(browserSentryTarget(undefined, 'production', undefined)).toEqual({ dsn: undefined, tunnel: undefined });
    expect(browserSentryTarget(undefined, 'development', 'off')).toEqual({ dsn: undefined, tunnel: undefined });
  });
});
