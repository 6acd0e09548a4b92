// `@sentry/nextjs` compiled out: what the bundler resolves the SDK to in a build made with
// SENTRY_BUILD=off (next.config.ts). It exists for one job, the benchmark's reference
// build (`make bench-frontend` compares the product with the same app without Sentry), and is
// never used by the product. It implements exactly the SDK functions the app calls, as no-ops.
//
// Keep it in step with the app's imports from '@sentry/nextjs' (tests/sentryBuildSwitch.test.ts
// checks that every name the app uses is exported here).

type Anything = (...args: unknown[]) => undefined;
const nothing: Anything = () => undefined;

/** The event ID the real SDK returns; the UI shows it as a support reference when non-empty. */
export const captureException = (): string => '';
export const captureMessage = (): string => '';
export const init = nothing;
export const addIntegration = nothing;
export const captureRequestError = nothing;
export const captureRouterTransitionStart = nothing;
export const replayIntegration = (): { name: string } => ({ name: 'Replay' });
export const setTag = nothing;
export const setUser = nothing;
