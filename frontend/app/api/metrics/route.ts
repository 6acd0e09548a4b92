// Prometheus scrape endpoint of the frontend (the `nextjs` job). A static app route, so it is
// matched before the afterFiles rewrite that proxies every other /api/* path to the backend.
import { getFrontendMetrics } from '@/lib/metrics/registry';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function GET(): Promise<Response> {
  const { registry } = getFrontendMetrics();
  return new Response(await registry.metrics(), {
    headers: { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' },
  });
}
