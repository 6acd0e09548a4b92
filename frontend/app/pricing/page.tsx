import type { Metadata } from 'next';
import { PricingPanel } from '@/components/PricingPanel';

export const metadata: Metadata = { title: 'Pricing' };

export default function PricingPage() {
  return (
    <>
      <h1>Pricing</h1>
      <PricingPanel />
    </>
  );
}
