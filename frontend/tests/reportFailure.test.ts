import { describe, expect, it, vi } from 'vitest';

vi.mock('@sentry/nextjs', () => ({ captureException: vi.fn() }));

import * as Sentry from '@sentry/nextjs';
import { ApiError } from '@/lib/api/errors';
import { apiPathTemplate, reportApiFailure } from '@/lib/api/reportFailure';

describe('reportApiFailure', () => {
  it('captures one Sentry event tagged with the request ID the user sees', () => {
    const error = new ApiError({
      kind: 'server',
      status: 503,
      requestId: 'rid-123',
      method: 'GET',
      path: '/api/projects/0f3c5a2e-8d7b-4c1a-9e6f-112233445566/tasks?limit=100&offset=0',
      message: 'Something went wrong on our side.',
    });
    reportApiFailure(error);
    expect(Sentry.captureException).toHaveBeenCalledTimes(1);
    const [captured, hint] = vi.mocked(Sentry.captureException).mock.calls[0]!;
    expect(captured).toBe(error);
    expect(hint).toMatchObject({
      tags: { request_id: 'rid-123', 'api.route': '/api/projects/{id}/tasks', 'api.status': '503' },
    });
  });

  it('templates IDs out of API paths', () => {
    expect(apiPathTemplate('/api/tasks/0F3C5A2E-8D7B-4C1A-9E6F-112233445566/complete')).toBe('/api/tasks/{id}/complete');
    expect(apiPathTemplate('/api/projects?limit=20')).toBe('/api/projects');
  });
});
