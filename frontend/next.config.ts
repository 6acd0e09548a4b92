import type { NextConfig } from 'next';
import { withSentryConfig } from '@sentry/nextjs/config';

// Where `/api/*` is proxied. Rewrites are resolved when the server starts from the
// built routes manifest, so set BACKEND_URL for `next build` (and `next start`).
const backendUrl = (process.env.BACKEND_URL || 'http://127.0.0.1:8000').replace(/\/+$/, '');

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // One prom-client copy, loaded by Node at runtime (not bundled per route), so the
  // registry singleton in lib/metrics/registry.ts is shared by instrumentation and the route.
  serverExternalPackages: ['prom-client'],
  async rewrites() {
    return {
      beforeFiles: [],
      // afterFiles run after the filesystem and the app's non-dynamic routes are checked,
      // so our own app/api/metrics/route.ts wins over this proxy for `/api/metrics`.
      afterFiles: [{ source: '/api/:path*', destination: `${backendUrl}/api/:path*` }],
      fallback: [],
    };
  },
};

// Source maps are uploaded only when a token is given; without it nothing leaves the machine.
const sentryAuthToken = process.env.SENTRY_AUTH_TOKEN || undefined;

export default withSentryConfig(nextConfig, {
  org: process.env.SENTRY_ORG,
  project: process.env.SENTRY_PROJECT,
  sentryUrl: process.env.SENTRY_URL,
  authToken: sentryAuthToken,
  telemetry: false,
  silent: true,
  sourcemaps: { disable: sentryAuthToken ? false : true, deleteSourcemapsAfterUpload: true },
  release: {
    name: process.env.GIT_SHA || undefined,
    create: Boolean(sentryAuthToken),
    finalize: Boolean(sentryAuthToken),
    setCommits: false,
    deploy: false,
  },
  widenClientFileUpload: Boolean(sentryAuthToken),
});
