// Tells the backend who the client is: this server's own TCP peer, and nothing the client said.
//
// Every incoming request gets `X-Forwarded-For: <peer address>` (one entry, set, not appended),
// and any X-Forwarded-For, X-Real-IP or Forwarded the client sent is dropped, so a spoofed value
// never reaches the backend (which trusts exactly one proxy hop: this server). Next's proxy does
// not add X-Forwarded-For itself. The same value is what app/api/metrics reads to tell a loopback
// scraper from anyone else.
// Written by hand: Next has no option for it; the hook is Node's `http.server.request.start`
// diagnostics channel, which fires before Next sees the request.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';

/** Client-supplied headers that name a client address; never passed on. */
export const CLIENT_ADDRESS_HEADERS = ['x-forwarded-for', 'x-real-ip', 'forwarded'] as const;

/** The header that tells the backend this server is its trusted proxy (backend/app/core/client_address.py). */
export const PROXY_SECRET_HEADER = 'x-trusted-proxy-secret';

/** The peer address as the backend should see it ("::ffff:1.2.3.4" -> "1.2.3.4"). */
export function peerAddress(remoteAddress: string | undefined): string | undefined {
  if (!remoteAddress) return undefined;
  return remoteAddress.startsWith('::ffff:') ? remoteAddress.slice('::ffff:'.length) : remoteAddress;
}

/**
 * Replace whatever the client sent with the one address this server saw, and prove to the backend
 * that this server set it (`proxySecret`, the backend's TRUSTED_PROXY_SECRET; a client's copy of
 * that header is dropped). Without a secret the backend believes no X-Forwarded-For at all.
 */
export function setForwardedFor(headers: IncomingMessage['headers'], remoteAddress: string | undefined,
                                proxySecret = ''): void {
  for (const name of CLIENT_ADDRESS_HEADERS) delete headers[name];
  delete headers[PROXY_SECRET_HEADER];
  const peer = peerAddress(remoteAddress);
  if (peer) headers['x-forwarded-for'] = peer;
  if (peer && proxySecret) headers[PROXY_SECRET_HEADER] = proxySecret;
}

const INSTALLED = Symbol.for('app.frontend.forwardedFor');
type GlobalWithFlag = typeof globalThis & { [INSTALLED]?: boolean };

export function installForwardedFor(): void {
  const g = globalThis as GlobalWithFlag;
  if (g[INSTALLED]) return;
  g[INSTALLED] = true;
  diagnosticsChannel.subscribe('http.server.request.start', (message) => {
    const { request } = message as { request: IncomingMessage };
    setForwardedFor(request.headers, request.socket.remoteAddress, process.env.TRUSTED_PROXY_SECRET ?? '');
  });
}
