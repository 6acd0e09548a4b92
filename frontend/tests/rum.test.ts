import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('@/lib/api/reportFailure', () => ({ reportApiFailure: vi.fn() }));

import { apiRequest } from '@/lib/api/client';
import { postBeacon } from '@/lib/rum/beacon';
import { CLIENT_CRASH_HEADER, InjectedClientCrash, noteFaultHeaders } from '@/lib/rum/clientCrash';
import {
  type BrowserErrorPayload,
  MAX_REPORTS_PER_DOCUMENT,
  errorType,
  reportBrowserError,
  resetErrorReportingForTests,
  startErrorReporting,
  toErrorPayload,
} from '@/lib/rum/errors';
import { trackAnonymousPageView } from '@/lib/rum/pageViews';

function headers(values: Record<string, string>): Headers {
  return new Headers(values);
}

describe('errorType: a bounded identifier, never the message', () => {
  it('is the class name of an Error', () => {
    expect(errorType(new TypeError("Cannot read properties of undefined (reading 'ada@example.com')"))).toBe('TypeError');
    expect(errorType(new RangeError('x'))).toBe('RangeError');
    expect(errorType(new InjectedClientCrash('/api/me'))).toBe('InjectedClientCrash');
  });

  it('falls back to "Error" for names that are no identifier and for non-errors', () => {
    const odd = new Error('boom');
    odd.name = 'failed for ada@example.com';
    expect(errorType(odd)).toBe('Error');
    const long = new Error('boom');
    long.name = 'X'.repeat(65);
    expect(errorType(long)).toBe('Error');
    expect(errorType('a string thrown')).toBe('Error');
    expect(errorType(undefined)).toBe('Error');
    expect(errorType({ name: 'UnhandledRejection' })).toBe('UnhandledRejection');
  });

  it('sends the route template and the type only', () => {
    const payload = toErrorPayload(new TypeError('secret message'), 'http://h/projects/5f0c?token=abc#x');
    expect(payload).toEqual({ type: 'TypeError', page: '/projects/[id]' });
    expect(JSON.stringify(payload)).not.toContain('secret');
    expect(toErrorPayload(new Error('x'), 'http://h/somewhere/else').page).toBe('other');
  });
});

describe('reportBrowserError', () => {
  beforeEach(() => resetErrorReportingForTests());

  it('counts one Error object once, and at most MAX_REPORTS_PER_DOCUMENT per document', () => {
    const sent: BrowserErrorPayload[] = [];
    const send = async (p: BrowserErrorPayload) => {
      sent.push(p);
    };
    const href = () => 'http://h/pricing';
    const error = new TypeError('x');
    expect(reportBrowserError(error, send, href)).toBe(true);
    expect(reportBrowserError(error, send, href)).toBe(false);
    for (let i = 0; i < MAX_REPORTS_PER_DOCUMENT + 5; i++) reportBrowserError(new Error(`e${i}`), send, href);
    expect(sent).toHaveLength(MAX_REPORTS_PER_DOCUMENT);
    expect(sent[0]).toEqual({ type: 'TypeError', page: '/pricing' });
  });

  it('listens for uncaught errors and unhandled rejections, not resource load failures', () => {
    const listeners: Record<string, (event: Event) => void> = {};
    const target = { addEventListener: (type: string, fn: (event: Event) => void) => { listeners[type] = fn; } };
    const sent: string[] = [];
    const send = async (p: BrowserErrorPayload) => {
      sent.push(p.type);
    };
    vi.stubGlobal('window', { location: { href: 'http://h/signup' } });
    try {
      expect(startErrorReporting(target, send)).toBe(true);
      expect(startErrorReporting(target, send)).toBe(false);
      listeners.error!({ error: new ReferenceError('x') } as unknown as Event);
      listeners.error!({ error: null } as unknown as Event); // an <img> that failed to load
      listeners.unhandledrejection!({ reason: new SyntaxError('x') } as unknown as Event);
      listeners.unhandledrejection!({ reason: 'just a string' } as unknown as Event);
    } finally {
      vi.unstubAllGlobals();
    }
    expect(sent).toEqual(['ReferenceError', 'SyntaxError', 'UnhandledRejection']);
  });
});

describe('anonymous page views', () => {
  it('counts the funnel pages only, by route template', () => {
    const sent: string[] = [];
    const send = async (page: string) => {
      sent.push(page);
    };
    expect(trackAnonymousPageView('/', send)).toBe('/');
    expect(trackAnonymousPageView('/pricing/', send)).toBe('/pricing');
    expect(trackAnonymousPageView('/signup', send)).toBe('/signup');
    expect(trackAnonymousPageView('/dashboard', send)).toBeNull();
    expect(trackAnonymousPageView('/projects/abc', send)).toBeNull();
    expect(sent).toEqual(['/', '/pricing', '/signup']);
  });
});

describe('postBeacon', () => {
  it('sends no cookie and only the body given', async () => {
    const fetcher = vi.fn(async () => new Response(null, { status: 204 }));
    expect(await postBeacon('/api/rum/pageviews', { page: '/' }, fetcher)).toBe(204);
    const [path, init] = fetcher.mock.calls[0] as unknown as [string, RequestInit];
    expect(path).toBe('/api/rum/pageviews');
    expect(init.credentials).toBe('omit');
    expect(init.keepalive).toBe(true);
    expect(init.body).toBe('{"page":"/"}');
    expect(Object.keys(init.headers as Record<string, string>).sort()).toEqual(['Content-Type', 'X-Request-ID']);
  });

  it('swallows network failures', async () => {
    const fetcher = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    expect(await postBeacon('/api/rum/errors', { type: 'Error', page: '/' }, fetcher)).toBeNull();
  });
});

describe('the client_crash fault', () => {
  it('crashes after a marked response, never after the error beacon, never without the header', () => {
    const scheduled: Array<() => void> = [];
    const schedule = (crash: () => void) => {
      scheduled.push(crash);
    };
    expect(noteFaultHeaders(headers({}), '/api/me', schedule)).toBe(false);
    expect(noteFaultHeaders(headers({ [CLIENT_CRASH_HEADER]: '0' }), '/api/me', schedule)).toBe(false);
    expect(noteFaultHeaders(headers({ [CLIENT_CRASH_HEADER]: '1' }), '/api/rum/errors', schedule)).toBe(false);
    expect(noteFaultHeaders(headers({ [CLIENT_CRASH_HEADER]: '1' }), '/api/me', schedule)).toBe(true);
    expect(scheduled).toHaveLength(1);
    expect(() => scheduled[0]!()).toThrow(InjectedClientCrash);
  });

  describe('through the API client', () => {
    afterEach(() => vi.unstubAllGlobals());

    it('a marked /api response schedules the crash; an unmarked one does not', async () => {
      vi.useFakeTimers();
      try {
        const fetchMock = vi.fn(async () => new Response('{}', { status: 200, headers: { [CLIENT_CRASH_HEADER]: '1' } }));
        vi.stubGlobal('fetch', fetchMock);
        await apiRequest('GET', '/api/me');
        expect(vi.getTimerCount()).toBe(1);
        expect(() => vi.runAllTimers()).toThrow(InjectedClientCrash);
        fetchMock.mockImplementation(async () => new Response('{}', { status: 200 }));
        await apiRequest('GET', '/api/me');
        expect(vi.getTimerCount()).toBe(0);
      } finally {
        vi.useRealTimers();
      }
    });
  });
});
