// Core Web Vitals from the `web-vitals` library to POST /api/rum/vitals.
//
// Units: `value` is sent exactly as web-vitals reports it (milliseconds for LCP, FCP, TTFB
// and INP; unitless for CLS). The backend converts to seconds for its *_seconds histograms.
// Page: the route template of the navigation the metric belongs to (metric.navigationURL),
// never the raw path.
// Flushing: web-vitals calls back for LCP, CLS and INP when the page becomes hidden
// (tab switch, navigation away, close); each report is sent at once with fetch keepalive
// (falls back to navigator.sendBeacon), both of which outlive the page.

import type { MetricType } from 'web-vitals';
import { onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals';
import { api } from './api/endpoints';
import { ApiError } from './api/errors';
import type { VitalPayload } from './api/types';
import { pageTemplate } from './routes';

const RATINGS = new Set(['good', 'needs-improvement', 'poor']);

export function toVitalPayload(
  metric: Pick<MetricType, 'name' | 'value' | 'rating' | 'id'> & { navigationURL?: string; navigationType?: MetricType['navigationType'] },
  currentHref: string,
): VitalPayload | null {
  if (!Number.isFinite(metric.value) || metric.value < 0) return null;
  // A soft (client-side) navigation has no document response: web-vitals reports TTFB 0 for it,
  // which would only drag the TTFB histogram down.
  if (metric.name === 'TTFB' && metric.navigationType === 'soft-navigation') return null;
  const payload: VitalPayload = {
    name: metric.name,
    value: metric.name === 'CLS' ? Math.round(metric.value * 10000) / 10000 : Math.round(metric.value * 10) / 10,
    page: pageTemplate(metric.navigationURL || currentHref),
  };
  if (RATINGS.has(metric.rating)) payload.rating = metric.rating;
  if (metric.id && metric.id.length <= 100) payload.id = metric.id;
  return payload;
}

export type VitalSender = (payload: VitalPayload) => Promise<void>;

/** fetch keepalive through the API client (carries X-Request-ID); sendBeacon if fetch is refused. */
export const sendVital: VitalSender = async (payload) => {
  try {
    await api.sendVital(payload);
  } catch (error) {
    const refused = error instanceof ApiError && error.kind === 'network';
    if (refused && typeof navigator !== 'undefined' && typeof navigator.sendBeacon === 'function') {
      navigator.sendBeacon('/api/rum/vitals', new Blob([JSON.stringify(payload)], { type: 'application/json' }));
    }
  }
};

export interface VitalsSources {
  onCLS: typeof onCLS;
  onFCP: typeof onFCP;
  onINP: typeof onINP;
  onLCP: typeof onLCP;
  onTTFB: typeof onTTFB;
}

const defaultSources: VitalsSources = { onCLS, onFCP, onINP, onLCP, onTTFB };
let started = false;

/** Subscribe once per document (React may mount the caller twice). */
export function startVitalsReporting(
  send: VitalSender = sendVital,
  sources: VitalsSources = defaultSources,
  href: () => string = () => window.location.href,
): boolean {
  if (started) return false;
  started = true;
  const report = (metric: MetricType) => {
    const payload = toVitalPayload(metric, href());
    if (payload) void send(payload);
  };
  // reportSoftNavs: where the browser supports soft navigations, App Router page changes get
  // their own metrics (with their own navigationURL); elsewhere it is a no-op.
  const opts = { reportSoftNavs: true };
  sources.onTTFB(report, opts);
  sources.onFCP(report, opts);
  sources.onLCP(report, opts);
  sources.onCLS(report, opts);
  sources.onINP(report, opts);
  return true;
}

/** Tests only. */
export function resetVitalsReportingForTests(): void {
  started = false;
}
