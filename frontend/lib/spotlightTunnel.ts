// The same-origin Sentry tunnel `/_spotlight` (the browser SDK's `tunnel` option): it forwards
// the app's own envelopes to the local Spotlight sink and does nothing else.
// - It exists only when the local sink is configured: SENTRY_SPOTLIGHT_URL set, no SENTRY_DSN,
//   ENVIRONMENT is not production. Otherwise 404.
// - POST only (405 otherwise): the sink's event stream (GET, text/event-stream) is never exposed.
// - Only from this app's pages: a cross-site or same-site-but-other-origin browser request is
//   refused (Sec-Fetch-Site / Origin).
// - Size-bounded (413) and envelope-shaped (400): a JSON header line whose `dsn`, when present,
//   is the local placeholder DSN the browser SDK was built with, then at least one item header
//   with a `type`.
// - Replay recordings go to the sink in an envelope of their own, ahead of the rest
//   (`spotlightEnvelopes`, below).
// Pure functions; proxy.ts does the I/O.
import { type Envelope, parseEnvelope, serializeEnvelope } from '@sentry/core';
import { LOCAL_SPOTLIGHT_DSN } from './sentry/options';

/** The browser SDK compresses Replay segments; 1 MiB is far above any envelope of this app. */
export const MAX_ENVELOPE_BYTES = 1024 * 1024;
export const SENTRY_ENVELOPE_CONTENT_TYPE = 'application/x-sentry-envelope';

export function spotlightSinkUrl(env: {
  SENTRY_DSN?: string | undefined;
  ENVIRONMENT?: string | undefined;
  SENTRY_SPOTLIGHT_URL?: string | undefined;
}): URL | null {
  const configured = env.SENTRY_SPOTLIGHT_URL?.trim();
  if (!configured || ['off', 'false', '0'].includes(configured)) return null;
  if (env.SENTRY_DSN || (env.ENVIRONMENT || 'development') === 'production') return null;
  try {
    const url = new URL(configured);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

export interface TunnelRefusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

export interface TunnelRequestInfo {
  method: string;
  contentLength: string | null;
  secFetchSite: string | null;
  origin: string | null;
  /** The Host header: this server as the browser addressed it. */
  host: string | null;
}

/** Whether the request may be read at all (before its body is). */
export function refuseTunnelRequest(info: TunnelRequestInfo): TunnelRefusal | null {
  if (info.method !== 'POST') {
    return { status: 405, message: 'Method Not Allowed', headers: { Allow: 'POST' } };
  }
  if (info.secFetchSite && info.secFetchSite !== 'same-origin') {
    return { status: 403, message: 'Forbidden' };
  }
  if (info.origin && originHost(info.origin) !== info.host) {
    return { status: 403, message: 'Forbidden' };
  }
  if (info.contentLength !== null) {
    const length = Number(info.contentLength);
    if (!Number.isInteger(length) || length < 0) return { status: 400, message: 'Bad Request' };
    if (length > MAX_ENVELOPE_BYTES) return { status: 413, message: 'Payload Too Large' };
  }
  return null;
}

function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

function parseJsonObject(line: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** null when `body` looks like an envelope of this app, else why not. */
export function envelopeProblem(body: Uint8Array): string | null {
  if (body.length === 0) return 'empty body';
  // Item payloads may be binary (compressed Replay segments): only the two header lines are decoded.
  const firstBreak = body.indexOf(0x0a);
  if (firstBreak === -1) return 'no item after the envelope header';
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const header = parseJsonObject(decoder.decode(body.subarray(0, firstBreak)));
  if (!header) return 'envelope header is not a JSON object';
  if (header.dsn !== undefined && header.dsn !== LOCAL_SPOTLIGHT_DSN) return 'envelope is not for this app';
  const secondBreak = body.indexOf(0x0a, firstBreak + 1);
  const itemLine = decoder.decode(body.subarray(firstBreak + 1, secondBreak === -1 ? body.length : secondBreak));
  const item = parseJsonObject(itemLine);
  if (!item || typeof item.type !== 'string') return 'first item header has no type';
  return null;
}

/** Reads at most `limit` bytes of a body; null when it is longer. */
export async function readBounded(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array | null> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

const REPLAY_RECORDING = 'replay_recording';

/**
 * The envelopes to post to Spotlight for one envelope of the browser: the same items, with any
 * `replay_recording` items moved into an envelope of their own (same envelope header) that goes
 * first. Framed by the SDK's own parseEnvelope/serializeEnvelope (binary payloads kept byte for
 * byte through their `length`).
 *
 * Why: Spotlight 4.11.8 parses every item but attachments, replay videos and statsd as JSON. A
 * replay recording (a JSON line, then zlib bytes) parses to null, and its message buffer then
 * throws on the null *after* storing the envelope and *before* telling its event-stream readers:
 * the POST answers 500 and the envelope, replay_event included, reaches the stream only when the
 * next envelope arrives (measured: not within 5 s, then 0.1 s after a later envelope). The
 * browser SDK, answered an error, stops the replay. Posted apart, the recording alone still
 * answers 500 (and is stored, as before); the rest parses, answers 200 and wakes the readers,
 * who then get both. An envelope without recordings, of recordings only, or one the SDK cannot
 * parse is returned whole.
 */
export function spotlightEnvelopes(body: Uint8Array): (string | Uint8Array)[] {
  let envelopeHeader: Envelope[0];
  let items: Envelope[1];
  try {
    [envelopeHeader, items] = parseEnvelope(body);
  } catch {
    return [body];
  }
  const recordings = items.filter(([header]) => header.type === REPLAY_RECORDING);
  const others = items.filter(([header]) => header.type !== REPLAY_RECORDING);
  if (recordings.length === 0 || others.length === 0) return [body];
  return [
    serializeEnvelope([envelopeHeader, recordings] as Envelope),
    serializeEnvelope([envelopeHeader, others] as Envelope),
  ];
}
