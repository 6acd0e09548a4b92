// Session Replay, loaded on its own (a separate chunk, `import()`ed by instrumentation-client.ts
// once the page is idle): rrweb and the Replay integration are ~124 KB of minified JS and about half
// of the SDK's main-thread cost at start-up, which the first paint does not need.
//
// The SDK's `lazyLoadIntegration('replayIntegration')` would fetch the same code from Sentry's CDN:
// a third-party script origin the CSP does not allow (and unreachable offline); `addIntegration`
// with the integration from our own bundle is the SDK's documented alternative.
import { addIntegration, replayIntegration } from '@sentry/nextjs';
import { scrubRecordingEvent } from './scrub';

/** Everything masked (text and inputs), media blocked, URLs in recording events scrubbed. */
export const REPLAY_OPTIONS = {
  maskAllText: true,
  maskAllInputs: true,
  blockAllMedia: true,
  beforeAddRecordingEvent: scrubRecordingEvent,
} as const;

/** The User Timing mark set when Replay has started (DevTools' Performance panel, the e2e suite). */
export const REPLAY_STARTED_MARK = 'sentry-replay-started';

/**
 * Adds Replay to the running client. Its sample rates are the client's
 * (replaysSessionSampleRate, replaysOnErrorSampleRate of Sentry.init): from now on the
 * on-error buffer records, and an error flushes it.
 */
export function startReplay(): void {
  addIntegration(replayIntegration(REPLAY_OPTIONS));
  performance.mark(REPLAY_STARTED_MARK);
}
