import type { NextConfig } from 'next';
import { withSentryConfig } from '@sentry/nextjs/config';
import { FIXED_SECURITY_HEADERS, NON_DOCUMENT_CSP } from './lib/security/headers';

// Same-origin /api/* is proxied to BACKEND_URL by proxy.ts (at request time; rewrites() here
// would be frozen into the build).

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // One prom-client copy, loaded by Node at runtime (not bundled per route), so the
  // registry singleton in lib/metrics/registry.ts is shared by instrumentation and the route.
  serverExternalPackages: ['prom-client'],
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

export default withSentryConfig(nextConfig, {
  org: process.env.SENTRY_ORG,
  project: process.env.SENTRY_PROJECT,
  sentryUrl: process.env.SENTRY_URL,
  authToken: sentryAuthToken,
  telemetry: false,
  silent: true,
  sourcemaps: { disable: !uploadSourceMaps, deleteSourcemapsAfterUpload: true },
  release: {
    name: process.env.GIT_SHA || undefined,
    create: uploadSourceMaps,
    finalize: uploadSourceMaps,
    setCommits: false,
    deploy: false,
  },
  widenClientFileUpload: uploadSourceMaps,
});
