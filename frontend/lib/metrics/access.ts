// Who may read the frontend's /api/metrics (the Prometheus `nextjs` job). A deliberate choice:
// - METRICS_TOKEN set: only `Authorization: Bearer <METRICS_TOKEN>` (any peer; Prometheus sends
//   it with `authorization: {credentials_file: ...}`). Wrong or missing -> 401.
// - METRICS_TOKEN unset, ENVIRONMENT=production: off (404). Production must set a token.
// - METRICS_TOKEN unset elsewhere: only a scraper on this machine's loopback address
//   (127.0.0.1 or ::1), which is how the local stack's Prometheus scrapes; anyone else -> 403.
// The peer is the X-Forwarded-For value lib/server/forwardedFor.ts sets from the socket for every
// request (a client's own X-Forwarded-For never survives it).
import { timingSafeEqual } from 'node:crypto';

export type MetricsAccess = { allowed: true } | { allowed: false; status: 401 | 403 | 404; message: string };

export const LOOPBACK_SCRAPERS: ReadonlySet<string> = new Set(['127.0.0.1', '::1']);

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function metricsAccess(request: {
  token: string | undefined;
  environment: string | undefined;
  authorization: string | null;
  peer: string | null;
}): MetricsAccess {
  const token = request.token?.trim();
  if (token) {
    const match = /^Bearer\s+(.+)$/i.exec(request.authorization ?? '');
    if (match && sameSecret(match[1]!.trim(), token)) return { allowed: true };
    return { allowed: false, status: 401, message: 'metrics need the METRICS_TOKEN bearer token' };
  }
  if ((request.environment || 'development') === 'production') {
    return { allowed: false, status: 404, message: 'Not Found' };
  }
  if (request.peer !== null && LOOPBACK_SCRAPERS.has(request.peer.trim())) return { allowed: true };
  return { allowed: false, status: 403, message: 'metrics are served to loopback scrapers only (or set METRICS_TOKEN)' };
}
