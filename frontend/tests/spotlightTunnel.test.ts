import { describe, expect, it } from 'vitest';
import { LOCAL_SPOTLIGHT_DSN } from '@/lib/sentry/options';
import { parseEnvelope } from '@sentry/core';
import {
  MAX_ENVELOPE_BYTES,
  envelopeProblem,
  readBounded,
  refuseTunnelRequest,
  spotlightEnvelopes,
  spotlightSinkUrl,
} from '@/lib/spotlightTunnel';

const encode = (text: string) => new TextEncoder().encode(text);
const same = { secFetchSite: 'same-origin', origin: 'http://127.0.0.1:3000', host: '127.0.0.1:3000', contentLength: '100' };

describe('spotlightSinkUrl: the tunnel exists only with a configured local sink', () => {
  it('needs SENTRY_SPOTLIGHT_URL, no DSN and a non-production environment', () => {
    expect(spotlightSinkUrl({ SENTRY_SPOTLIGHT_URL: 'http://127.0.0.1:18969/stream' })?.toString()).toBe(
      'http://127.0.0.1:18969/stream',
    );
    expect(spotlightSinkUrl({})).toBeNull();
    expect(spotlightSinkUrl({ SENTRY_SPOTLIGHT_URL: ' ' })).toBeNull();
    expect(spotlightSinkUrl({ SENTRY_SPOTLIGHT_URL: 'off' })).toBeNull();
    expect(spotlightSinkUrl({ SENTRY_SPOTLIGHT_URL: 'http://x/stream', SENTRY_DSN: 'https://k@o1.ingest.sentry.io/1' })).toBeNull();
    expect(spotlightSinkUrl({ SENTRY_SPOTLIGHT_URL: 'http://x/stream', ENVIRONMENT: 'production' })).toBeNull();
    expect(spotlightSinkUrl({ SENTRY_SPOTLIGHT_URL: 'file:///etc/passwd' })).toBeNull();
  });
});

describe('refuseTunnelRequest', () => {
  it('accepts a same-origin POST within the size bound', () => {
    expect(refuseTunnelRequest({ method: 'POST', ...same })).toBeNull();
    expect(refuseTunnelRequest({ method: 'POST', ...same, secFetchSite: null, origin: null })).toBeNull();
  });

  it('never serves the event stream: GET and everything but POST is 405', () => {
    expect(refuseTunnelRequest({ method: 'GET', ...same })).toMatchObject({ status: 405, headers: { Allow: 'POST' } });
    expect(refuseTunnelRequest({ method: 'PUT', ...same })?.status).toBe(405);
  });

  it('refuses other sites and other origins of the same site', () => {
    expect(refuseTunnelRequest({ method: 'POST', ...same, secFetchSite: 'cross-site' })?.status).toBe(403);
    expect(refuseTunnelRequest({ method: 'POST', ...same, secFetchSite: 'same-site' })?.status).toBe(403);
    expect(refuseTunnelRequest({ method: 'POST', ...same, secFetchSite: null, origin: 'http://127.0.0.1:8080' })?.status).toBe(403);
  });

  it('refuses declared bodies over the bound', () => {
    expect(refuseTunnelRequest({ method: 'POST', ...same, contentLength: String(5 * 1024 * 1024) })?.status).toBe(413);
    expect(refuseTunnelRequest({ method: 'POST', ...same, contentLength: String(MAX_ENVELOPE_BYTES) })).toBeNull();
  });
});

describe('envelopeProblem', () => {
  const event = '{"type":"event","length":2}\n{}';
  it('accepts envelopes of this app, also with binary item payloads', () => {
    expect(envelopeProblem(encode(`{"event_id":"a","dsn":"${LOCAL_SPOTLIGHT_DSN}"}\n${event}`))).toBeNull();
    expect(envelopeProblem(encode(`{}\n${event}`))).toBeNull();
    const binary = new Uint8Array([...encode('{}\n{"type":"replay_recording","length":3}\n'), 0x78, 0x9c, 0x00]);
    expect(envelopeProblem(binary)).toBeNull();
  });

  it('refuses anything else', () => {
    expect(envelopeProblem(encode(''))).not.toBeNull();
    expect(envelopeProblem(encode('hello'))).not.toBeNull();
    expect(envelopeProblem(encode('[1,2]\n{"type":"event"}'))).not.toBeNull();
    expect(envelopeProblem(encode('{"dsn":"https://k@o1.ingest.sentry.io/1"}\n{"type":"event"}'))).toMatch(/not for this app/);
    expect(envelopeProblem(encode('{}\n{"length":2}\n{}'))).toMatch(/type/);
  });
});

describe('readBounded', () => {
  const stream = (size: number) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let sent = 0; sent < size; sent += 1000) controller.enqueue(new Uint8Array(Math.min(1000, size - sent)));
        controller.close();
      },
    });
  it('reads bodies up to the limit and stops beyond it', async () => {
    expect((await readBounded(stream(2500), 3000))?.length).toBe(2500);
    expect(await readBounded(stream(3001), 3000)).toBeNull();
    expect((await readBounded(null, 10))?.length).toBe(0);
  });
});

describe('spotlightEnvelopes: replay recordings go to Spotlight apart, and first', () => {
  const header = '{"event_id":"r1","sent_at":"2026-12-03T18:00:00.000Z"}';
  const replayEvent = '{"type":"replay_event","replay_id":"r1","error_ids":["e1"]}';
  // a recording as the SDK sends it: a JSON line, then zlib bytes (here with a newline and a 0xff inside)
  const recording = new Uint8Array([...encode('{"segment_id":0}\n'), 0x78, 0x9c, 0x0a, 0xff, 0x00]);
  const replayEnvelope = new Uint8Array([
    ...encode(`${header}\n{"type":"replay_event","length":${encode(replayEvent).length}}\n${replayEvent}\n`),
    ...encode(`{"type":"replay_recording","length":${recording.length}}\n`),
    ...recording,
  ]);
  const bytes = (part: string | Uint8Array) => (typeof part === 'string' ? encode(part) : part);

  it('splits a replay envelope: the recording alone first, byte for byte, then the replay_event', () => {
    const parts = spotlightEnvelopes(replayEnvelope).map((part) => parseEnvelope(bytes(part)));
    expect(parts).toHaveLength(2);
    expect(parts.map(([envelopeHeader]) => envelopeHeader)).toEqual([JSON.parse(header), JSON.parse(header)]);
    const items = parts.map(([, envelopeItems]) => envelopeItems.map(([h, payload]) => [h.type, payload]));
    expect(items).toEqual([[['replay_recording', recording]], [['replay_event', encode(replayEvent)]]]);
  });

  it('returns every other envelope whole', () => {
    const event = encode(`{}\n{"type":"event"}\n{"message":"x"}\n`);
    expect(spotlightEnvelopes(event)).toEqual([event]);
    const onlyRecording = new Uint8Array([...encode(`{}\n{"type":"replay_recording","length":${recording.length}}\n`), ...recording]);
    expect(spotlightEnvelopes(onlyRecording)).toEqual([onlyRecording]);
    const broken = encode('{}\n{"type":"event"}\nnot json');
    expect(spotlightEnvelopes(broken)).toEqual([broken]);
  });
});
