// The single way the browser talks to the backend: same-origin `/api/...` (proxied by
// next.config rewrites), cookie session, a fresh X-Request-ID per call, typed errors.

import { ApiError, kindForStatus, mapValidationErrors, parseRetryAfter, userMessage } from './errors';
import { REQUEST_ID_HEADER, newRequestId, pickRequestId } from './requestId';
import { reportApiFailure } from './reportFailure';
import { noteFaultHeaders } from '../rum/clientCrash';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
  /** Let the request outlive the page (vitals and events sent while the page is being hidden). */
  keepalive?: boolean;
  /**
   * Telemetry call nobody waits for: network failures (usually the page unloading) are not
   * reported to Sentry; 5xx still are.
   */
  background?: boolean;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => '');
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export async function apiRequest<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
  if (!path.startsWith('/api/')) throw new Error(`API paths are same-origin /api/...; got ${path}`);
  const requestId = newRequestId();
  const headers: Record<string, string> = { Accept: 'application/json', [REQUEST_ID_HEADER]: requestId };
  const init: RequestInit = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  if (options.signal) init.signal = options.signal;
  if (options.keepalive) init.keepalive = true;

  let response: Response;
  try {
    response = await globalThis.fetch(path, init);
  } catch (cause) {
    if (options.signal?.aborted) throw cause; // the caller cancelled: not a failure
    const error = new ApiError({
      kind: 'network',
      status: null,
      requestId,
      method,
      path,
      message: userMessage('network', undefined, null),
    });
    if (!options.background) reportApiFailure(error);
    throw error;
  }

  noteFaultHeaders(response.headers, path); // the client_crash fault (test stacks only)
  const body = await readBody(response);
  if (response.ok) return body as T;

  const detail = typeof body === 'object' && body !== null ? (body as { detail?: unknown }).detail : undefined;
  const bodyRequestId = typeof body === 'object' && body !== null ? (body as { request_id?: unknown }).request_id : undefined;
  const kind = kindForStatus(response.status);
  const retryAfterSeconds = parseRetryAfter(response.headers.get('Retry-After'));
  const error = new ApiError({
    kind,
    status: response.status,
    requestId: pickRequestId(requestId, response.headers.get(REQUEST_ID_HEADER), bodyRequestId),
    method,
    path,
    message: userMessage(kind, detail, retryAfterSeconds),
    validation: kind === 'validation' ? mapValidationErrors(detail) : undefined,
    retryAfterSeconds,
  });
  if (error.kind === 'server') reportApiFailure(error);
  throw error;
}
