// Browser Sentry: errors, traces (propagated to the backend through same-origin /api calls,
// so one trace runs browser -> Next proxy -> FastAPI) and Session Replay with everything masked.
// Without NEXT_PUBLIC_SENTRY_DSN (local), envelopes go to Spotlight through the same-origin
// relay /_spotlight (proxy.ts forwards it to the server's SENTRY_SPOTLIGHT_URL).
//
// Start-up cost (docs/benchmarks.md, "Frontend"): errors and tracing start here, before
// hydration, so an error on first paint is captured with its request ID and the page-load span
// starts at navigation. Session Replay is a separate chunk added once the page has settled
// (lib/sentry/replay.ts, lib/sentry/whenIdle.ts): its on-error buffer starts then, not at navigation.
import * as Sentry from '@sentry/nextjs';
import { DATA_COLLECTION, SCRUBBING_HOOKS, browserSentryTarget, sampleRate } from './lib/sentry/options';
import { whenSettled } from './lib/sentry/whenIdle';

const environment = process.env.NEXT_PUBLIC_ENVIRONMENT || 'development';
const target = browserSentryTarget(
  process.env.NEXT_PUBLIC_SENTRY_DSN || undefined,
  environment,
  process.env.NEXT_PUBLIC_SENTRY_SPOTLIGHT,
);

/**
 * Replay starts once the page has settled: 2 s after `load` with no long task on the main thread
 * (each long task restarts the wait), at the latest 10 s after `load`. Starting it at the first idle
 * moment instead put its ~140 ms of start-up work (chunk evaluation, first DOM snapshot, worker)
 * right after hydration, inside Lighthouse's TBT window (docs/benchmarks.md, "Frontend").
 */
const REPLAY_START = { quietMs: 2000, maxWaitMs: 10_000 };

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
});

if (target.dsn) {
  whenSettled(() => {
    void import('./lib/sentry/replay').then(({ startReplay }) => startReplay());
  }, REPLAY_START);
}

export const onRouterTransitionStart = Sentry.captureRouterTransitionStart;
