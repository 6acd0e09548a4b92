// Browser tracing, a chunk of its own: `import()`ed by instrumentation-client.ts right after the
// client started (not waiting for anything), so it downloads beside the page's other scripts and is
// evaluated in a task of its own instead of inside the first-load chunk with React.
//
// What that keeps: the page-load span still starts at navigation (browserTracingIntegration
// starts it at `performance.timeOrigin` whenever it is added; web vitals and resource timings are
// read from buffered performance entries), and every /api call made after the chunk ran carries
// sentry-trace and baggage. What changes: a fetch made before the chunk ran (in practice none of
// the app's own calls: they start after hydration, which waits for the same network round) goes
// without sentry-trace, and an App Router navigation that starts before it is not traced
// (docs/benchmarks.md, "Frontend").
import {
  addIntegration,
  browserTracingIntegration,
  captureRouterTransitionStart,
  getClient,
  webVitalsIntegration,
} from '@sentry/nextjs';

export { captureRouterTransitionStart };

type Later = (step: () => void) => void;
const nextTask: Later = (step) => setTimeout(step, 0);

/**
 * Adds browserTracingIntegration (the Next.js one: App Router page-load and navigation spans) in
 * three tasks instead of one: what `addIntegration(browserTracingIntegration())` runs was one
 * 17-19 ms task (≈ 25 ms of Lighthouse's TBT at 4x CPU; a task under ≈ 12 ms costs none). Same work,
 * same order: (1) webVitalsIntegration, which browserTracingIntegration adds itself only when it is
 * absent (the SDK's documented way to register it first), with its defaults; (2) the integration's
 * `setup` (span error and long-animation-frame instrumentation), through addIntegration without its
 * `afterAllSetup`; (3) that `afterAllSetup` (fetch/XHR instrumentation, the page-load span).
 */
export function startTracing(later: Later = nextTask): void {
  addIntegration(webVitalsIntegration());
  later(() => {
    const { afterAllSetup, ...setupOnly } = browserTracingIntegration();
    addIntegration(setupOnly);
    later(() => {
      const client = getClient();
      if (client && afterAllSetup) afterAllSetup(client);
    });
  });
}
