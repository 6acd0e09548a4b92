// X-Request-ID: generated per call in the browser, echoed (or replaced) by the backend.
// Same shape the backend accepts: short and a safe charset, so it can go into logs,
// Sentry tags and the UI without escaping.

export const REQUEST_ID_HEADER = 'X-Request-ID';
export const MAX_REQUEST_ID_LENGTH = 64;
const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && SAFE_REQUEST_ID.test(value);
}

/** 32 hex characters from the platform CSPRNG (crypto.getRandomValues also works on plain http, randomUUID does not). */
export function newRequestId(random: (bytes: Uint8Array) => Uint8Array = (b) => globalThis.crypto.getRandomValues(b)): string {
  const bytes = random(new Uint8Array(16));
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** The ID to show the user: the one the server echoed if it is sane, else the one we sent. */
export function pickRequestId(sent: string, ...candidates: unknown[]): string {
  for (const candidate of candidates) {
    if (isValidRequestId(candidate)) return candidate;
  }
  return sent;
}
