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
import { addIntegration, browserTracingIntegration, captureRouterTransitionStart } from '@sentry/nextjs';

export { captureRouterTransitionStart };

/** Adds browserTracingIntegration (the Next.js one: App Router page-load and navigation spans). */
export function startTracing(): void {
  addIntegration(browserTracingIntegration());
}
