// Browser Sentry: errors, traces (propagated to the backend through same-origin /api calls,
// so one trace runs browser -> Next proxy -> FastAPI) and Session Replay with everything masked.
// Without NEXT_PUBLIC_SENTRY_DSN (local), envelopes go to Spotlight through the same-origin
// relay /_spotlight (proxy.ts forwards it to the server's SENTRY_SPOTLIGHT_URL).
//
// Start-up cost (docs/benchmarks.md, "Frontend"), in three parts:
// - errors start here, before hydration (lib/sentry/browserClient.ts, the SDK's tree-shakeable
//   BrowserClient setup), so an error on first paint is captured with its request ID;
// - tracing is a chunk of its own requested right now (lib/sentry/tracing.ts): the page-load span
//   still starts at navigation, sentry-trace goes with every /api call made after it ran;
// - Session Replay is a chunk added once the page has settled (lib/sentry/replay.ts,
//   lib/sentry/whenIdle.ts): its on-error buffer starts then, not at navigation.
import { startBrowserClient } from './lib/sentry/browserClient';
import { DATA_COLLECTION, SCRUBBING_HOOKS, browserSentryTarget, sampleRate } from './lib/sentry/options';
import { whenSettled } from './lib/sentry/whenIdle';

const environment = process.env.NEXT_PUBLIC_ENVIRONMENT || 'development';
const target = browserSentryTarget(
  process.env.NEXT_PUBLIC_SENTRY_DSN || undefined,
  environment,
  process.env.NEXT_PUBLIC_SENTRY_SPOTLIGHT,
);

/**
 * Replay starts once the page is interactive by Time to Interactive's own definition: 5 s after
 * `load` with no long task on the main thread (each long task restarts the wait), at the latest 10 s
 * after `load`. Its start-up (the first DOM snapshot, ~25-30 ms of main thread here, ~110 ms at
 * Lighthouse's 4x CPU) is then not work that blocks the page becoming usable (TBT counts tasks up
 * to TTI), and it no longer competes with a first input during hydration. The cost: an error in the
 * first seconds of a page view is captured without a replay (docs/benchmarks.md, "Frontend").
 */
const REPLAY_START = { quietMs: 5000, maxWaitMs: 10_000 };

startBrowserClient({
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

type Tracing = typeof import('./lib/sentry/tracing');
let tracing: Tracing | undefined;

if (target.dsn) {
  // Requested from a task of its own (inserting the chunk's <script> measured ~35 ms of main thread
  // inside the first-load chunk's evaluation, in Lighthouse's mobile profile), and started in the
  // task after the chunk's evaluation (together they were one ~19 ms task, 76 ms at 4x CPU).
  setTimeout(() => {
    void import('./lib/sentry/tracing').then((loaded) => {
      setTimeout(() => {
        tracing = loaded;
        loaded.startTracing();
      }, 0);
    });
  }, 0);
  whenSettled(() => {
    // Two tasks, not one: the chunk's evaluation, then (after a macrotask yield) Replay's start
    // (session, first DOM snapshot, worker). Together they were one ~40 ms task (160 ms at 4x CPU).
    void import('./lib/sentry/replay').then(({ startReplay }) => setTimeout(startReplay, 0));
  }, REPLAY_START);
}

/** Next calls this on every App Router navigation; a navigation before tracing has loaded is not traced. */
export function onRouterTransitionStart(...args: Parameters<Tracing['captureRouterTransitionStart']>): void {
  tracing?.captureRouterTransitionStart(...args);
}
