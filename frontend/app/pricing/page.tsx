import type { Metadata } from 'next';
import { cookies } from 'next/headers';
import { PricingPanel } from '@/components/PricingPanel';
import { SESSION_COOKIE } from '@/lib/sessionHint';

export const metadata: Metadata = { title: 'Pricing' };

// Whether the request has a session cookie at all (its value is never read here; the backend
// decides whether it is valid): signed-out visitors get the public plans without a call to the
// authenticated GET /api/billing/plan.
export default async function PricingPage() {
  const hasSession = (await cookies()).has(SESSION_COOKIE);
  return (
    <>
      <h1>Pricing</h1>
      <PricingPanel hasSession={hasSession} />
    </>
  );
}
