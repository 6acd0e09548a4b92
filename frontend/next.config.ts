import type { NextConfig } from 'next';
import { withSentryConfig } from '@sentry/nextjs/config';

// Same-origin /api/* is proxied to BACKEND_URL by proxy.ts (at request time; rewrites() here
// would be frozen into the build).

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // One prom-client copy, loaded by Node at runtime (not bundled per route), so the
  // registry singleton in lib/metrics/registry.ts is shared by instrumentation and the route.
  serverExternalPackages: ['prom-client'],
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
