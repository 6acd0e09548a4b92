// The browser's Sentry client, built the SDK's tree-shakeable way (docs.sentry.io, JavaScript,
// "Tree Shaking" / "Shared Environments": a `BrowserClient` with explicit integrations), instead of
// `@sentry/nextjs`'s `init`, which imports every default integration and browserTracingIntegration
// statically and so puts all of them into the first-load chunk.
//
// Here: errors only (what must run before hydration: an error on first paint is captured with its
// request ID). Tracing is its own chunk, added right after (lib/sentry/tracing.ts); Replay once the
// page has settled (lib/sentry/replay.ts). What `@sentry/nextjs`'s client `init` adds that matters
// here is repeated below, each marked: the SDK metadata (sdk.name sentry.javascript.nextjs), the
// release withSentryConfig injects, stack-frame normalization (app:///_next/...), the
// NEXT_REDIRECT filter and the /404 span filter; the React context and SyntheticEvent
// normalization of `@sentry/react`'s init. Not repeated: the ISR/SSG meta-tag removal (every page
// here is rendered per request) and the dev-only error symbolication.
import {
  BrowserClient,
  SDK_VERSION,
  breadcrumbsIntegration,
  browserSessionIntegration,
  consoleIntegration,
  cultureContextIntegration,
  dedupeIntegration,
  defaultStackParser,
  eventFiltersIntegration,
  functionToStringIntegration,
  getCurrentScope,
  globalHandlersIntegration,
  httpContextIntegration,
  linkedErrorsIntegration,
  makeFetchTransport,
  rewriteFramesIntegration,
  setCurrentClient,
} from '@sentry/nextjs';
import type { BrowserOptions } from '@sentry/nextjs';
import { version as reactVersion } from 'react';

type StackFrame = { filename?: string; in_app?: boolean };

// As @sentry/nextjs's nextjsClientStackFrameNormalizationIntegration (in its client build): Next's own runtime chunks are not app code.
const NEXTJS_INTERNAL_CHUNK = /\/_next\/static\/chunks\/(main-|main-app-|polyfills-|webpack-|framework-|framework\.)[0-9a-f]+\.js(:\d+)*$/;

/** `<origin>/_next/static/...` -> `app:///_next/static/...` (what uploaded source maps are keyed by). */
export function normaliseFrame<F extends StackFrame>(frame: F): F {
  try {
    const { origin } = new URL(frame.filename ?? '');
    frame.filename = frame.filename?.replace(origin, 'app://');
  } catch {
    // not an absolute URL: leave it
  }
  if (frame.filename?.startsWith('app:///_next')) frame.filename = decodeURI(frame.filename);
  if (frame.filename && NEXTJS_INTERNAL_CHUNK.test(frame.filename)) frame.in_app = false;
  return frame;
}

/** Next's redirect() travels as a thrown error (digest NEXT_REDIRECT;..., also as a cause); @sentry/nextjs drops it. */
export function isNextNavigationSignal(event: { exception?: { values?: Array<{ value?: string }> } }, hint?: { originalException?: unknown }): boolean {
  let subject: unknown = hint?.originalException;
  for (let depth = 0; depth <= 5 && subject instanceof Error; depth += 1) {
    const { digest } = subject as Error & { digest?: unknown };
    if (typeof digest === 'string' && digest.startsWith('NEXT_REDIRECT;')) return true;
    subject = subject.cause;
  }
  return event.exception?.values?.[0]?.value === 'NEXT_REDIRECT';
}

/**
 * The error integrations. BrowserApiErrors (the SDK's wrapping of setTimeout, setInterval,
 * requestAnimationFrame, XHR and every EventTarget's addEventListener, so that a callback's error
 * gets a stack from a cross-origin script) is left out: every script here is same-origin, where
 * the global `error` handler (GlobalHandlers) already sees the full error, and the wrappers put a
 * Sentry frame around every callback of the page, React's event handlers included.
 * Also left out from the defaults: ConversationId (conversation IDs of AI agent calls; the app makes none).
 */
export function errorIntegrations() {
  return [
    eventFiltersIntegration(),
    functionToStringIntegration(),
    breadcrumbsIntegration(),
    consoleIntegration(),
    globalHandlersIntegration(),
    linkedErrorsIntegration(),
    dedupeIntegration(),
    httpContextIntegration(),
    cultureContextIntegration(),
    browserSessionIntegration(),
    rewriteFramesIntegration({ iteratee: normaliseFrame }),
  ];
}

export type ClientOptions = Omit<BrowserOptions, 'integrations' | 'transport' | 'stackParser'>;

/** Creates, binds and starts the client (what `Sentry.init` does); returns it. */
export function startBrowserClient(options: ClientOptions): BrowserClient {
  const client = new BrowserClient({
    release: process.env._sentryRelease || undefined,
    ...options,
    // @sentry/nextjs: segment spans of the /404 page are not sent.
    ignoreSpans: [...(options.ignoreSpans ?? []), /^\/404$/],
    integrations: errorIntegrations(),
    transport: makeFetchTransport,
    stackParser: defaultStackParser,
    // @sentry/nextjs applySdkMetadata(opts, 'nextjs', ['nextjs', 'react'])
    _metadata: {
      sdk: {
        name: 'sentry.javascript.nextjs',
        version: SDK_VERSION,
        packages: ['nextjs', 'react'].map((name) => ({ name: `npm:@sentry/${name}`, version: SDK_VERSION })),
      },
    },
  });
  setCurrentClient(client);
  getCurrentScope().setContext('react', { version: reactVersion });
  client.init();
  client.addEventProcessor(Object.assign((event: Parameters<typeof isNextNavigationSignal>[0], hint: Parameters<typeof isNextNavigationSignal>[1]) =>
    (isNextNavigationSignal(event, hint) ? null : event), { id: 'NextRedirectErrorFilter' }) as never);
  return client;
}
