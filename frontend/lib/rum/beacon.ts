// How the RUM beacons leave the browser: a same-origin JSON POST with fetch keepalive (it outlives
// the page) and `credentials: 'omit'`, so no cookie, session or user travels with a page view or an
// error count (only a fresh X-Request-ID, as on every browser call). Failures are swallowed: a lost beacon is not an error worth reporting (and reporting
// it as one could loop). Written by hand (not lib/api/client.ts) because that client always sends
// the session cookie.

import { REQUEST_ID_HEADER, newRequestId } from '../api/requestId';
import { noteFaultHeaders } from './clientCrash';

export type Fetch = typeof globalThis.fetch;

export async function postBeacon(path: string, body: unknown, fetcher: Fetch = globalThis.fetch): Promise<number | null> {
  try {
    const response = await fetcher(path, {
      method: 'POST',
      // a fresh random ID per call, like every browser call (logs, Sentry); it identifies the request, not the person
      headers: { 'Content-Type': 'application/json', [REQUEST_ID_HEADER]: newRequestId() },
      body: JSON.stringify(body),
      credentials: 'omit',
      keepalive: true,
      cache: 'no-store',
    });
    noteFaultHeaders(response.headers, path);
    return response.status;
  } catch {
    return null;
  }
}
