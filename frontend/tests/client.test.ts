import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@/lib/api/reportFailure', () => ({ reportApiFailure: vi.fn() }));

import { apiRequest } from '@/lib/api/client';
import { ApiError } from '@/lib/api/errors';
import { isValidRequestId } from '@/lib/api/requestId';
import { reportApiFailure } from '@/lib/api/reportFailure';

const fetchMock = vi.fn<typeof fetch>();

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

function sentHeaders(call = 0): Record<string, string> {
  return fetchMock.mock.calls[call]![1]!.headers as Record<string, string>;
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected the call to fail');
}

beforeEach(() => {
  fetchMock.mockReset();
  vi.mocked(reportApiFailure).mockReset();
  vi.stubGlobal('fetch', fetchMock);
});
afterEach(() => vi.unstubAllGlobals());

describe('apiRequest', () => {
  it('sends a fresh, valid X-Request-ID with every call, same-origin with cookies', async () => {
    fetchMock.mockImplementation(async () => jsonResponse(200, { ok: true }));
    await apiRequest('GET', '/api/me');
    await apiRequest('GET', '/api/me');
    const [first, second] = [sentHeaders(0)['X-Request-ID'], sentHeaders(1)['X-Request-ID']];
    expect(isValidRequestId(first)).toBe(true);
    expect(isValidRequestId(second)).toBe(true);
    expect(first).not.toBe(second);
    expect(fetchMock.mock.calls[0]![0]).toBe('/api/me');
    expect(fetchMock.mock.calls[0]![1]!.credentials).toBe('same-origin');
  });

  it('serialises JSON bodies and returns the parsed response', async () => {
    fetchMock.mockResolvedValue(jsonResponse(201, { id: 'p1', name: 'Apollo' }));
    const project = await apiRequest<{ id: string }>('POST', '/api/projects', { body: { name: 'Apollo' } });
    expect(project.id).toBe('p1');
    expect(fetchMock.mock.calls[0]![1]!.body).toBe('{"name":"Apollo"}');
    expect(sentHeaders()['Content-Type']).toBe('application/json');
  });

  it('returns undefined for 204', async () => {
    fetchMock.mockResolvedValue(new Response(null, { status: 204 }));
    await expect(apiRequest('DELETE', '/api/tasks/t1')).resolves.toBeUndefined();
  });

  it('refuses anything but same-origin /api paths', async () => {
    await expect(apiRequest('GET', 'https://evil.example/api/me')).rejects.toThrow(/same-origin/);
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('maps a FastAPI 422 to field errors and does not report it', async () => {
    fetchMock.mockResolvedValue(
      jsonResponse(422, {
        detail: [
          { loc: ['body', 'email'], msg: 'value is not a valid email address', type: 'value_error' },
          { loc: ['body', 'name'], msg: 'Field required', type: 'missing' },
        ],
      }),
    );
    const error = await failure(apiRequest('POST', '/api/auth/signup', { body: {} }));
    expect(error.kind).toBe('validation');
    expect(error.fieldErrors).toEqual({ email: ['value is not a valid email address'], name: ['Field required'] });
    expect(error.isSupportCase).toBe(false);
    expect(reportApiFailure).not.toHaveBeenCalled();
  });

  it('shows the backend message for 401 and 409', async () => {
    fetchMock.mockResolvedValueOnce(jsonResponse(401, { detail: 'Invalid email or password' }));
    expect((await failure(apiRequest('POST', '/api/auth/login', { body: {} }))).message).toBe('Invalid email or password');
    fetchMock.mockResolvedValueOnce(jsonResponse(409, { detail: 'Email already registered' }));
    const conflict = await failure(apiRequest('POST', '/api/auth/signup', { body: {} }));
    expect(conflict.kind).toBe('conflict');
    expect(conflict.message).toBe('Email already registered');
  });

  it('reads Retry-After on 429', async () => {
    fetchMock.mockResolvedValue(jsonResponse(429, { detail: 'Too many requests' }, { 'Retry-After': '17' }));
    const error = await failure(apiRequest('POST', '/api/auth/login', { body: {} }));
    expect(error.kind).toBe('rate_limited');
    expect(error.retryAfterSeconds).toBe(17);
    expect(error.message).toContain('17 s');
  });

  it('on 5xx keeps the ID the server echoed and reports the failure once', async () => {
    fetchMock.mockResolvedValue(jsonResponse(503, { detail: 'x', request_id: 'from-body' }, { 'X-Request-ID': 'echoed-id' }));
    const error = await failure(apiRequest('GET', '/api/projects?limit=20&offset=0'));
    expect(error.kind).toBe('server');
    expect(error.status).toBe(503);
    expect(error.requestId).toBe('echoed-id');
    expect(error.isSupportCase).toBe(true);
    expect(reportApiFailure).toHaveBeenCalledTimes(1);
    expect(reportApiFailure).toHaveBeenCalledWith(error);
  });

  it('ignores an unsafe echoed ID and falls back to the body, then to the one it sent', async () => {
    fetchMock.mockResolvedValueOnce(jsonResponse(500, { request_id: 'body-id' }, { 'X-Request-ID': 'bad id <x>' }));
    expect((await failure(apiRequest('GET', '/api/me'))).requestId).toBe('body-id');

    fetchMock.mockResolvedValueOnce(new Response('Bad Gateway', { status: 502 }));
    const error = await failure(apiRequest('GET', '/api/me'));
    expect(error.requestId).toBe(sentHeaders(1)['X-Request-ID']);
  });

  it('on a network failure shows the ID it sent and reports it', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'));
    const error = await failure(apiRequest('GET', '/api/me'));
    expect(error.kind).toBe('network');
    expect(error.status).toBeNull();
    expect(error.requestId).toBe(sentHeaders()['X-Request-ID']);
    expect(reportApiFailure).toHaveBeenCalledWith(error);
  });

  it('background calls do not report network failures (page unloads) but do report 5xx', async () => {
    fetchMock.mockRejectedValueOnce(new TypeError('Failed to fetch'));
    await failure(apiRequest('POST', '/api/rum/vitals', { body: {}, background: true, keepalive: true }));
    expect(reportApiFailure).not.toHaveBeenCalled();
    expect(fetchMock.mock.calls[0]![1]!.keepalive).toBe(true);

    fetchMock.mockResolvedValueOnce(jsonResponse(500, {}));
    await failure(apiRequest('POST', '/api/events', { body: {}, background: true }));
    expect(reportApiFailure).toHaveBeenCalledTimes(1);
  });
});
