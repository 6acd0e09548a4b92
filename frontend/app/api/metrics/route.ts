// Prometheus scrape endpoint of the frontend (the `nextjs` job). proxy.ts does not forward this
// path to the backend. Who may read it: lib/metrics/access.ts.
import { metricsAccess } from '@/lib/metrics/access';
import { getFrontendMetrics } from '@/lib/metrics/registry';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function GET(request: Request): Promise<Response> {
  const access = metricsAccess({
    token: process.env.METRICS_TOKEN,
    environment: process.env.ENVIRONMENT,
    authorization: request.headers.get('authorization'),
    peer: request.headers.get('x-forwarded-for'),
  });
  if (!access.allowed) {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
    if (access.status === 401) headers['WWW-Authenticate'] = 'Bearer';
    return new Response(JSON.stringify({ detail: access.message }), { status: access.status, headers });
  }
  const { registry } = getFrontendMetrics();
  return new Response(await registry.metrics(), {
    headers: { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' },
  });
}
