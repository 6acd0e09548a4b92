// Same-origin `/api/*` -> the FastAPI backend (BACKEND_URL, default http://127.0.0.1:8000),
// except our own /api/metrics; and `/_spotlight` -> the local Spotlight sidecar (dev only).
//
// Why Proxy (Next 16's name for middleware) and not a next.config `rewrites()` entry: rewrites
// are evaluated by `next build` and frozen into the routes manifest, so BACKEND_URL given to
// `next start` would be ignored (verified: a build made for :8000 kept proxying to :8000).
// Proxy runs on the Node.js runtime at request time and reads the server's environment;
// `NextResponse.rewrite` to an external URL uses Next's own streaming HTTP proxy (cookies,
// Set-Cookie, X-Request-ID, sentry-trace/baggage pass through unchanged).
// Proxy runs before the filesystem routes, so /api/metrics is excluded explicitly.
import { type NextRequest, NextResponse } from 'next/server';
import { SENTRY_ENVELOPE_CONTENT_TYPE, SPOTLIGHT_RELAY_PATH, backendOrigin, backendTarget, spotlightRelayTarget } from './lib/proxyTargets';

export function proxy(request: NextRequest): NextResponse {
  const { pathname, search } = request.nextUrl;
  if (pathname === SPOTLIGHT_RELAY_PATH) {
    const spotlight = spotlightRelayTarget({
      SENTRY_DSN: process.env.SENTRY_DSN,
      ENVIRONMENT: process.env.ENVIRONMENT,
      SENTRY_SPOTLIGHT_URL: process.env.SENTRY_SPOTLIGHT_URL,
    });
    if (!spotlight) return new NextResponse(null, { status: 404 });
    // The SDK's tunnel transport posts text/plain; Spotlight files envelopes by content type.
    const headers = new Headers(request.headers);
    headers.set('content-type', SENTRY_ENVELOPE_CONTENT_TYPE);
    return NextResponse.rewrite(spotlight, { request: { headers } });
  }
  const target = backendTarget(pathname, search, backendOrigin(process.env.BACKEND_URL));
  return target ? NextResponse.rewrite(target) : NextResponse.next();
}

export const config = { matcher: ['/api/:path*', '/_spotlight'] };
