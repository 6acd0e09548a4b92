import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MetricType } from 'web-vitals';

vi.mock('@/lib/api/reportFailure', () => ({ reportApiFailure: vi.fn() }));

import type { VitalPayload } from '@/lib/api/types';
import { type VitalsSources, resetVitalsReportingForTests, sendVital, startVitalsReporting, toVitalPayload } from '@/lib/vitals';

function metric(overrides: Partial<MetricType> & Pick<MetricType, 'name' | 'value'>): MetricType {
  return {
    rating: 'good',
    delta: overrides.value,
    id: 'v6-1700000000000-1234567890123',
    entries: [],
    navigationType: 'navigate',
    navigationId: 1,
    ...overrides,
  } as MetricType;
}

describe('toVitalPayload', () => {
  it('keeps web-vitals units: milliseconds for timings, unitless CLS', () => {
    expect(toVitalPayload(metric({ name: 'LCP', value: 1234.5678 }), 'http://h/dashboard')).toEqual({
      name: 'LCP',
      value: 1234.6,
      page: '/dashboard',
      rating: 'good',
      id: 'v6-1700000000000-1234567890123',
    });
    expect(toVitalPayload(metric({ name: 'CLS', value: 0.123456 }), 'http://h/')!.value).toBe(0.1235);
  });

  it('uses the route template of the navigation the metric belongs to, not the current URL', () => {
    const lcp = metric({ name: 'LCP', value: 900, navigationURL: 'http://h/projects/0f3c5a2e-8d7b-4c1a-9e6f-112233445566' });
    expect(toVitalPayload(lcp, 'http://h/pricing')!.page).toBe('/projects/[id]');
    expect(toVitalPayload(metric({ name: 'TTFB', value: 80 }), 'http://h/projects/abc?x=1')!.page).toBe('/projects/[id]');
    expect(toVitalPayload(metric({ name: 'FCP', value: 80 }), 'http://h/unknown/page')!.page).toBe('other');
  });

  it('drops TTFB of soft navigations (no document response; web-vitals reports 0)', () => {
    expect(toVitalPayload(metric({ name: 'TTFB', value: 0, navigationType: 'soft-navigation' }), 'http://h/dashboard')).toBeNull();
    expect(toVitalPayload(metric({ name: 'FCP', value: 80, navigationType: 'soft-navigation' }), 'http://h/dashboard')).not.toBeNull();
  });

  it('drops values that cannot be a measurement', () => {
    expect(toVitalPayload(metric({ name: 'INP', value: Number.NaN }), 'http://h/')).toBeNull();
    expect(toVitalPayload(metric({ name: 'INP', value: -1 }), 'http://h/')).toBeNull();
    expect(toVitalPayload(metric({ name: 'INP', value: Number.POSITIVE_INFINITY }), 'http://h/')).toBeNull();
  });
});

describe('startVitalsReporting', () => {
  beforeEach(() => resetVitalsReportingForTests());

  function fakeSources() {
    const callbacks = new Map<string, (m: MetricType) => void>();
    const register = (name: string) =>
      vi.fn((cb: (m: MetricType) => void, opts?: { reportSoftNavs?: boolean }) => {
        expect(opts?.reportSoftNavs).toBe(true);
        callbacks.set(name, cb);
      });
    const sources = {
      onCLS: register('CLS'),
      onFCP: register('FCP'),
      onINP: register('INP'),
      onLCP: register('LCP'),
      onTTFB: register('TTFB'),
    };
    return { sources: sources as unknown as VitalsSources, callbacks, spies: sources };
  }

  it('subscribes to all five vitals once per document and sends each report', () => {
    const sent: VitalPayload[] = [];
    const { sources, callbacks, spies } = fakeSources();
    expect(startVitalsReporting(async (p) => void sent.push(p), sources, () => 'http://h/dashboard')).toBe(true);
    expect(startVitalsReporting(async (p) => void sent.push(p), sources, () => 'http://h/dashboard')).toBe(false);
    for (const spy of Object.values(spies)) expect(spy).toHaveBeenCalledTimes(1);
    expect([...callbacks.keys()].sort()).toEqual(['CLS', 'FCP', 'INP', 'LCP', 'TTFB']);

    // web-vitals invokes these when the page is hidden (LCP/CLS/INP) or as soon as known (TTFB/FCP).
    callbacks.get('TTFB')!(metric({ name: 'TTFB', value: 42 }));
    callbacks.get('CLS')!(metric({ name: 'CLS', value: 0.02 }));
    callbacks.get('INP')!(metric({ name: 'INP', value: Number.NaN }));
    expect(sent.map((p) => [p.name, p.value, p.page])).toEqual([
      ['TTFB', 42, '/dashboard'],
      ['CLS', 0.02, '/dashboard'],
    ]);
  });
});

describe('sendVital', () => {
  const fetchMock = vi.fn<typeof fetch>();
  const beacon = vi.fn((_url: string, _data?: BodyInit | null) => true);
  beforeEach(() => {
    fetchMock.mockReset();
    beacon.mockClear();
    vi.stubGlobal('fetch', fetchMock);
    vi.stubGlobal('navigator', { sendBeacon: beacon });
  });
  afterEach(() => vi.unstubAllGlobals());

  const payload: VitalPayload = { name: 'LCP', value: 1200, page: '/dashboard', rating: 'good' };

  it('posts with fetch keepalive to /api/rum/vitals with a request ID', async () => {
    fetchMock.mockResolvedValue(new Response(null, { status: 204 }));
    await sendVital(payload);
    const [url, init] = fetchMock.mock.calls[0]!;
    expect(url).toBe('/api/rum/vitals');
    expect(init!.keepalive).toBe(true);
    expect(JSON.parse(String(init!.body))).toEqual(payload);
    expect((init!.headers as Record<string, string>)['X-Request-ID']).toMatch(/^[0-9a-f]{32}$/);
    expect(beacon).not.toHaveBeenCalled();
  });

  it('falls back to navigator.sendBeacon when fetch is refused', async () => {
    fetchMock.mockRejectedValue(new TypeError('keepalive quota exceeded'));
    await sendVital(payload);
    expect(beacon).toHaveBeenCalledTimes(1);
    const [url, data] = beacon.mock.calls[0]!;
    expect(url).toBe('/api/rum/vitals');
    expect(JSON.parse(await (data as Blob).text())).toEqual(payload);
  });

  it('does not resend through the beacon when the server answered (e.g. 422)', async () => {
    fetchMock.mockResolvedValue(new Response('{"detail":[]}', { status: 422 }));
    await sendVital(payload);
    expect(beacon).not.toHaveBeenCalled();
  });
});
