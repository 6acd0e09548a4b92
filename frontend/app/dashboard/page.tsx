import type { Metadata } from 'next';
import { Suspense } from 'react';
import { ProjectsPanel } from '@/components/ProjectsPanel';

export const metadata: Metadata = { title: 'Dashboard' };

export default function DashboardPage() {
  return (
    <>
      <h1>Dashboard</h1>
      <Suspense fallback={<p className="loading">Loading projects…</p>}>
        <ProjectsPanel />
      </Suspense>
    </>
  );
}
