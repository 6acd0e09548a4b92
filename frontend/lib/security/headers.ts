// Security headers of every frontend response. Pure functions: next.config.ts sets the fixed ones
// on every path, proxy.ts sets the Content-Security-Policy (with a fresh nonce for documents).
//
// The CSP is the nonce + 'strict-dynamic' policy Next documents
// (node_modules/next/dist/docs/01-app/02-guides/content-security-policy.md): Next reads the nonce
// from the request's CSP header and puts it on its own scripts; scripts those load are trusted
// through 'strict-dynamic'. It needs every page rendered per request (app/layout.tsx awaits
// connection()). What the app itself needs beyond that:
// - connect-src 'self': /api/* (fetch, the web-vitals beacon) and the Sentry tunnel /_spotlight;
//   with a real NEXT_PUBLIC_SENTRY_DSN the browser posts to that DSN's host, which is added.
// - worker-src 'self' blob:: Session Replay compresses in a worker it starts from a blob: URL.
// - img-src data: blob:: Replay and the icon; nothing else loads from elsewhere.

export const REFERRER_POLICY = 'same-origin';

/** Set on every response by next.config.ts `headers()`. */
export const FIXED_SECURITY_HEADERS: ReadonlyArray<{ key: string; value: string }> = [
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Referrer-Policy', value: REFERRER_POLICY },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=()' },
];

/** For responses that are never documents (API JSON, static files): nothing may run or frame them. */
export const NON_DOCUMENT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export interface CspOptions {
  nonce: string;
  /** `next dev`: React needs eval for its debugging aids, and injects styles. */
  development: boolean;
  /** NEXT_PUBLIC_SENTRY_DSN when the browser sends to a real Sentry (no tunnel). */
  sentryDsn?: string | undefined;
  /** ENVIRONMENT=production: served over HTTPS, so any http: subresource is upgraded. */
  production: boolean;
  /** CSP hashes of the stylesheets Next inlines (lib/security/inlineStyles.ts); they carry no nonce. */
  styleHashes?: readonly string[];
}

/** The ingest origin of a DSN ("https://key@o1.ingest.sentry.io/2" -> "https://o1.ingest.sentry.io"). */
export function sentryIngestOrigin(dsn: string | undefined): string | null {
  if (!dsn) return null;
  try {
    const url = new URL(dsn);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : null;
  } catch {
    return null;
  }
}

export function documentCsp(options: CspOptions): string {
  const nonce = `'nonce-${options.nonce}'`;
  const ingest = sentryIngestOrigin(options.sentryDsn);
  const directives: Array<[string, ...string[]]> = [
    ['default-src', "'self'"],
    ['script-src', "'self'", nonce, "'strict-dynamic'", ...(options.development ? ["'unsafe-eval'"] : [])],
    ['style-src', "'self'", ...(options.development ? ["'unsafe-inline'"] : [nonce, ...(options.styleHashes ?? [])])],
    ['img-src', "'self'", 'data:', 'blob:'],
    ['font-src', "'self'"],
    ['connect-src', "'self'", ...(ingest ? [ingest] : [])],
    ['worker-src', "'self'", 'blob:'],
    ['manifest-src', "'self'"],
    ['object-src', "'none'"],
    ['base-uri', "'self'"],
    ['form-action', "'self'"],
    ['frame-ancestors', "'none'"],
  ];
  const policy = directives.map((d) => d.join(' ')).join('; ');
  return options.production ? `${policy}; upgrade-insecure-requests` : policy;
}

/** A fresh nonce per document: 128 random bits, base64. */
export function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
