// Node.js runtime Sentry (server renders, route handlers, the /api proxy). Loaded from instrumentation.ts.
import * as Sentry from '@sentry/nextjs';
import { DATA_COLLECTION, SCRUBBING_HOOKS, sampleRate, spotlightUrl } from './lib/sentry/options';

const dsn = process.env.SENTRY_DSN || undefined;
const environment = process.env.ENVIRONMENT || 'development';

Sentry.init({
  dsn,
  environment,
  release: process.env.GIT_SHA || undefined,
  tracesSampleRate: sampleRate(process.env.SENTRY_TRACES_SAMPLE_RATE, 0.1),
  spotlight: spotlightUrl(dsn, environment, process.env.SENTRY_SPOTLIGHT_URL),
  dataCollection: DATA_COLLECTION,
  ...SCRUBBING_HOOKS,
});
