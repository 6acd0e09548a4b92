// Browser Sentry: errors, traces (propagated to the backend through same-origin /api calls,
// so one trace runs browser -> Next proxy -> FastAPI) and Session Replay with everything masked.
// Without NEXT_PUBLIC_SENTRY_DSN (local), envelopes go to Spotlight through the same-origin
// relay /_spotlight (proxy.ts forwards it to the server's SENTRY_SPOTLIGHT_URL).
import * as Sentry from '@sentry/nextjs';
import { DATA_COLLECTION, SCRUBBING_HOOKS, browserSentryTarget, sampleRate } from './lib/sentry/options';
import { scrubRecordingEvent } from './lib/sentry/scrub';

const environment = process.env.NEXT_PUBLIC_ENVIRONMENT || 'development';
const target = browserSentryTarget(
  process.env.NEXT_PUBLIC_SENTRY_DSN || undefined,
  environment,
  process.env.NEXT_PUBLIC_SENTRY_SPOTLIGHT,
);

Sentry.init({
  dsn: target.dsn,
  tunnel: target.tunnel,
  environment,
  tracesSampleRate: sampleRate(process.env.NEXT_PUBLIC_SENTRY_TRACES_SAMPLE_RATE, 0.1),
  replaysSessionSampleRate: sampleRate(process.env.NEXT_PUBLIC_SENTRY_REPLAYS_SESSION_SAMPLE_RATE, 0.01),
  replaysOnErrorSampleRate: sampleRate(process.env.NEXT_PUBLIC_SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE, 1.0),
  // Relative patterns are matched against same-origin request pathnames: sentry-trace and
  // baggage go to our /api proxy and nowhere else.
  tracePropagationTargets: [/^\/api\//],
  dataCollection: DATA_COLLECTION,
  ...SCRUBBING_HOOKS,
  integrations: [
    Sentry.replayIntegration({ maskAllText: true, blockAllMedia: true, beforeAddRecordingEvent: scrubRecordingEvent }),
  ],
});

export const onRouterTransitionStart = Sentry.captureRouterTransitionStart;
