// Passes the browser's address to the backend. Next's proxy (rewrites and Proxy rewrites) does
// not add X-Forwarded-For, so without this the backend would see every user as 127.0.0.1 and
// its per-IP auth rate limit would be one bucket for everybody. The peer address is appended
// (standard XFF semantics), so a client-supplied value cannot displace it: the backend (uvicorn
// with forwarded_allow_ips = this server) takes the right-most untrusted entry.
// Written by hand: Next has no option for it; the hook is Node's `http.server.request.start`
// diagnostics channel, which fires before Next sees the request.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';

const MAX_HEADER_LENGTH = 1024;

export function appendForwardedFor(existing: string | string[] | undefined, peer: string | undefined): string | undefined {
  if (!peer) return Array.isArray(existing) ? existing.join(', ') : existing;
  const address = peer.startsWith('::ffff:') ? peer.slice('::ffff:'.length) : peer;
  const previous = (Array.isArray(existing) ? existing.join(', ') : (existing ?? '')).trim();
  // A client can send a huge header; keep only the newest hops.
  const kept = previous.length > MAX_HEADER_LENGTH ? previous.slice(previous.length - MAX_HEADER_LENGTH).replace(/^[^,]*,\s*/, '') : previous;
  return kept ? `${kept}, ${address}` : address;
}

const INSTALLED = Symbol.for('northstar.frontend.forwardedFor');
type GlobalWithFlag = typeof globalThis & { [INSTALLED]?: boolean };

export function installForwardedFor(): void {
  const g = globalThis as GlobalWithFlag;
  if (g[INSTALLED]) return;
  g[INSTALLED] = true;
  diagnosticsChannel.subscribe('http.server.request.start', (message) => {
    const { request } = message as { request: IncomingMessage };
    const value = appendForwardedFor(request.headers['x-forwarded-for'], request.socket.remoteAddress);
    if (value) request.headers['x-forwarded-for'] = value;
  });
}
