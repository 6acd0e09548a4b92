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

// lib/sentry/browserClient.ts and lib/sentry/tracing.ts: the client and its integrations.
export class BrowserClient {
  init(): void {}
  addEventProcessor(): void {}
}
export const SDK_VERSION = '0.0.0';
export const setCurrentClient = nothing;
export const getCurrentScope = (): { setContext: Anything } => ({ setContext: nothing });
export const makeFetchTransport = nothing;
export const defaultStackParser = nothing;
export const breadcrumbsIntegration = nothing;
export const browserSessionIntegration = nothing;
export const dedupeIntegration = nothing;
export const eventFiltersIntegration = nothing;
export const functionToStringIntegration = nothing;
export const globalHandlersIntegration = nothing;
export const httpContextIntegration = nothing;
export const linkedErrorsIntegration = nothing;
export const rewriteFramesIntegration = nothing;
export const browserTracingIntegration = (): { name: string } => ({ name: 'BrowserTracing' });
export const webVitalsIntegration = nothing;
export const getClient = nothing;
export const consoleIntegration = nothing;
export const cultureContextIntegration = nothing;
