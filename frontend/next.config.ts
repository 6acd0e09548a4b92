import type { NextConfig } from 'next';
import { withSentryConfig } from '@sentry/nextjs/config';
import { FIXED_SECURITY_HEADERS, NON_DOCUMENT_CSP } from './lib/security/headers';
import { SENTRY_BUNDLE_DEFINES, sentryCompiledOut } from './lib/sentry/buildSwitch';

// Same-origin /api/* is proxied to BACKEND_URL by proxy.ts (at request time; rewrites() here
// would be frozen into the build).

// SENTRY_BUILD=off: the benchmark's reference build, the same app with the Sentry SDK
// compiled out (every import of @sentry/nextjs resolves to lib/sentry/compiledOut.ts, and
// withSentryConfig is not applied). Never set for the product.
const sentryOff = sentryCompiledOut(process.env.SENTRY_BUILD);
const SENTRY_STUB = './lib/sentry/compiledOut.ts';

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // One prom-client copy, loaded by Node at runtime (not bundled per route), so the
  // registry singleton in lib/metrics/registry.ts is shared by instrumentation and the route.
  serverExternalPackages: ['prom-client'],
  // BROWSER_SOURCEMAPS=1: .map files next to the browser chunks, for the benchmark's
  // first-load JS split by package (webperf/firstload.py). The chunks themselves are unchanged.
  productionBrowserSourceMaps: process.env.BROWSER_SOURCEMAPS === '1',
  // The stylesheet (app/globals.css, ~2 KB gzip) goes into the document as a <style> (with the
  // request's CSP nonce) instead of a render-blocking <link>: one round trip less before the first paint.
  experimental: { inlineCss: true },
  compiler: {
    // The SDK's own build flags (what withSentryConfig's `bundleSizeOptimizations` /
    // `webpack.treeshake` set for webpack builds; with Turbopack they have to be defines):
    // no SDK debug logging, no Replay iframe or shadow-DOM recording (the app has neither).
    define: sentryOff ? {} : { ...SENTRY_BUNDLE_DEFINES },
  },
  ...(sentryOff
    ? {
        turbopack: { resolveAlias: { '@sentry/nextjs': SENTRY_STUB } },
        webpack: (config: { resolve: { alias: Record<string, string> } }) => {
          config.resolve.alias['@sentry/nextjs$'] = new URL(SENTRY_STUB, import.meta.url).pathname;
          return config;
        },
      }
    : {}),
  // Security headers on every response (lib/security/headers.ts). The Content-Security-Policy of
  // pages and /api responses is set per request by proxy.ts (pages need a fresh nonce); build
  // assets, which proxy.ts does not see, get a fixed one.
  async headers() {
    return [
      { source: '/:path*', headers: [...FIXED_SECURITY_HEADERS] },
      {
        source: '/:asset(_next/static|_next/image|favicon.ico|icon.svg)/:path*',
        headers: [{ key: 'Content-Security-Policy', value: NON_DOCUMENT_CSP }],
      },
      { source: '/:asset(favicon.ico|icon.svg)', headers: [{ key: 'Content-Security-Policy', value: NON_DOCUMENT_CSP }] },
    ];
  },
};

// Source maps are uploaded only when a token, org and project are all given; otherwise the
// build makes no connection at all (also the case for the bundle-secrets check, which sets
// only a canary token).
const uploadSourceMaps = Boolean(process.env.SENTRY_AUTH_TOKEN && process.env.SENTRY_ORG && process.env.SENTRY_PROJECT);
const sentryAuthToken = uploadSourceMaps ? process.env.SENTRY_AUTH_TOKEN : undefined;

export default sentryOff
  ? nextConfig
  : withSentryConfig(nextConfig, {
      org: process.env.SENTRY_ORG,
      project: process.env.SENTRY_PROJECT,
      sentryUrl: process.env.SENTRY_URL,
      authToken: sentryAuthToken,
      telemetry: false,
      silent: true,
      // The benchmark's builds keep their maps (BROWSER_SOURCEMAPS=1, never deployed).
      sourcemaps: { disable: !uploadSourceMaps, deleteSourcemapsAfterUpload: process.env.BROWSER_SOURCEMAPS !== '1' },
      release: {
        name: process.env.GIT_SHA || undefined,
        create: uploadSourceMaps,
        finalize: uploadSourceMaps,
        setCommits: false,
        deploy: false,
      },
      widenClientFileUpload: uploadSourceMaps,
      // The same flags as compiler.define above, for a webpack build (`next build --webpack`).
      bundleSizeOptimizations: { excludeDebugStatements: true, excludeReplayIframe: true, excludeReplayShadowDom: true },
      webpack: { treeshake: { removeDebugLogging: true, excludeReplayIframe: true, excludeReplayShadowDOM: true } },
    });
