// Every request except build assets passes here (Next 16's Proxy, the former middleware):
// - `/api/*` -> the FastAPI backend (BACKEND_URL, default http://127.0.0.1:8000), except our own
//   /api/metrics; bodies over MAX_BODY_BYTES are answered 413 here (lib/proxyTargets.ts).
// - `/_spotlight` -> the Sentry tunnel to the local Spotlight sink (lib/spotlightTunnel.ts).
// - pages -> rendered with a fresh CSP nonce (lib/security/headers.ts).
//
// Why Proxy and not a next.config `rewrites()` entry: rewrites are evaluated by `next build` and
// frozen into the routes manifest, so BACKEND_URL given to `next start` would be ignored
// (verified: a build made for :8000 kept proxying to :8000). Proxy runs on the Node.js runtime at
// request time and reads the server's environment; `NextResponse.rewrite` to an external URL uses
// Next's own streaming HTTP proxy (cookies, Set-Cookie, X-Request-ID, sentry-trace/baggage pass
// through unchanged; X-Forwarded-For is set by lib/server/forwardedFor.ts, Next's routing headers
// are removed by lib/server/responseHeaders.ts).
import { type NextRequest, NextResponse } from 'next/server';
import { SPOTLIGHT_RELAY_PATH, backendOrigin, backendTarget, maxBodyBytes, refuseBody } from './lib/proxyTargets';
import { NON_DOCUMENT_CSP, documentCsp, newNonce } from './lib/security/headers';
import { inlineStyleHashes } from './lib/security/inlineStyles';
import {
  MAX_ENVELOPE_BYTES,
  SENTRY_ENVELOPE_CONTENT_TYPE,
  envelopeProblem,
  readBounded,
  refuseTunnelRequest,
  spotlightEnvelopes,
  spotlightSinkUrl,
} from './lib/spotlightTunnel';

function plain(status: number, detail: string, headers: Record<string, string> = {}): NextResponse {
  return NextResponse.json(
    { detail },
    { status, headers: { 'Cache-Control': 'no-store', 'Content-Security-Policy': NON_DOCUMENT_CSP, ...headers } },
  );
}

async function spotlightTunnel(request: NextRequest): Promise<NextResponse> {
  const sink = spotlightSinkUrl({
    SENTRY_DSN: process.env.SENTRY_DSN,
    ENVIRONMENT: process.env.ENVIRONMENT,
    SENTRY_SPOTLIGHT_URL: process.env.SENTRY_SPOTLIGHT_URL,
  });
  if (!sink) return plain(404, 'Not Found');
  const refusal = refuseTunnelRequest({
    method: request.method,
    contentLength: request.headers.get('content-length'),
    secFetchSite: request.headers.get('sec-fetch-site'),
    origin: request.headers.get('origin'),
    host: request.headers.get('host'),
  });
  if (refusal) return plain(refusal.status, refusal.message, refusal.headers);
  const body = await readBounded(request.body, MAX_ENVELOPE_BYTES);
  if (body === null) return plain(413, 'Payload Too Large');
  const problem = envelopeProblem(body);
  if (problem) return plain(400, `Not a Sentry envelope of this app: ${problem}`);
  try {
    // Replay recordings first and apart (lib/spotlightTunnel.ts, spotlightEnvelopes): Spotlight
    // answers 500 for them after storing them, so the answer to the browser is the last post's.
    let ok = false;
    for (const envelope of spotlightEnvelopes(body)) {
      // The SDK's tunnel transport posts text/plain; Spotlight files envelopes by content type.
      const forwarded = await fetch(sink, {
        method: 'POST',
        headers: { 'content-type': SENTRY_ENVELOPE_CONTENT_TYPE },
        body: envelope as BodyInit,
        signal: AbortSignal.timeout(5000),
      });
      await forwarded.body?.cancel();
      ok = forwarded.ok;
    }
    return new NextResponse(null, {
      status: ok ? 200 : 502,
      headers: { 'Cache-Control': 'no-store', 'Content-Security-Policy': NON_DOCUMENT_CSP },
    });
  } catch {
    return plain(502, 'The local Sentry sink is not reachable');
  }
}

export async function proxy(request: NextRequest): Promise<NextResponse> {
  const { pathname, search } = request.nextUrl;
  if (pathname === SPOTLIGHT_RELAY_PATH) return spotlightTunnel(request);

  const target = backendTarget(pathname, search, backendOrigin(process.env.BACKEND_URL));
  if (target) {
    const refusal = refuseBody(
      request.method,
      request.headers.get('content-length'),
      request.headers.get('transfer-encoding'),
      maxBodyBytes(process.env.MAX_BODY_BYTES),
    );
    if (refusal) return plain(refusal.status, refusal.detail);
    return NextResponse.rewrite(target, { headers: { 'Content-Security-Policy': NON_DOCUMENT_CSP } });
  }

  // Pages (and /api/metrics): Next reads the nonce from the request's CSP header and puts it on
  // its scripts; the stylesheet it inlines is allowed by its hash.
  const development = process.env.NODE_ENV === 'development';
  const csp = documentCsp({
    nonce: newNonce(),
    development,
    styleHashes: development ? [] : inlineStyleHashes(),
    sentryDsn: process.env.NEXT_PUBLIC_SENTRY_DSN,
    production: process.env.ENVIRONMENT === 'production',
  });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set('content-security-policy', csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set('Content-Security-Policy', csp);
  return response;
}

// Build assets are immutable files with a fixed CSP from next.config.ts; everything else comes here.
export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico|icon.svg).*)'],
};
