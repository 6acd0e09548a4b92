// Edge runtime Sentry. Nothing runs on the edge today (proxy.ts runs on the Node.js runtime); kept so that
// adding one is covered. Spotlight is not available in the edge SDK.
import * as Sentry from '@sentry/nextjs';
import { DATA_COLLECTION, SCRUBBING_HOOKS, sampleRate } from './lib/sentry/options';

Sentry.init({
  dsn: process.env.SENTRY_DSN || undefined,
  environment: process.env.ENVIRONMENT || 'development',
  release: process.env.GIT_SHA || undefined,
  tracesSampleRate: sampleRate(process.env.SENTRY_TRACES_SAMPLE_RATE, 0.1),
  dataCollection: DATA_COLLECTION,
  ...SCRUBBING_HOOKS,
});
