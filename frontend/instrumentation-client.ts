// Browser Sentry: errors, traces (propagated to the backend through same-origin /api calls,
// so one trace runs browser -> Next proxy -> FastAPI) and Session Replay with everything masked.
import * as Sentry from '@sentry/nextjs';
import { DATA_COLLECTION, sampleRate, spotlightUrl } from './lib/sentry/options';

const dsn = process.env.NEXT_PUBLIC_SENTRY_DSN || undefined;
const environment = process.env.NEXT_PUBLIC_ENVIRONMENT || 'development';
const spotlight = spotlightUrl(dsn, environment, process.env.NEXT_PUBLIC_SENTRY_SPOTLIGHT_URL);

Sentry.init({
  dsn,
  environment,
  tracesSampleRate: sampleRate(process.env.NEXT_PUBLIC_SENTRY_TRACES_SAMPLE_RATE, 0.1),
  replaysSessionSampleRate: sampleRate(process.env.NEXT_PUBLIC_SENTRY_REPLAYS_SESSION_SAMPLE_RATE, 0.01),
  replaysOnErrorSampleRate: sampleRate(process.env.NEXT_PUBLIC_SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE, 1.0),
  // Relative paths are matched against same-origin request pathnames: sentry-trace and
  // baggage go to our /api proxy and nowhere else.
  tracePropagationTargets: [/^\/api\//],
  dataCollection: DATA_COLLECTION,
  integrations: [
    Sentry.replayIntegration({ maskAllText: true, blockAllMedia: true }),
    ...(spotlight ? [Sentry.spotlightBrowserIntegration({ sidecarUrl: spotlight })] : []),
  ],
});

export const onRouterTransitionStart = Sentry.captureRouterTransitionStart;
