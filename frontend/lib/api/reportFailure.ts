import * as Sentry from '@sentry/nextjs';
import type { ApiError } from './errors';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** "/api/projects/5f0c...-.../tasks?limit=5" -> "/api/projects/{id}/tasks" (groups issues, no IDs in tags). */
export function apiPathTemplate(path: string): string {
  return (path.split('?', 1)[0] ?? path).replace(UUID, '{id}');
}

/** One Sentry event per failed call (5xx or network), tagged with the request ID the user sees. */
export function reportApiFailure(error: ApiError): void {
  const route = apiPathTemplate(error.path);
  Sentry.captureException(error, {
    tags: {
      request_id: error.requestId,
      'api.route': route,
      'api.method': error.method,
      'api.status': error.status === null ? 'network' : String(error.status),
    },
    fingerprint: ['api-failure', error.method, route, error.kind],
  });
}
