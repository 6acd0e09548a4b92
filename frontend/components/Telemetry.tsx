'use client';
import { usePathname } from 'next/navigation';
import { useEffect, useRef } from 'react';
import { trackPageView } from '@/lib/events';
import { startVitalsReporting } from '@/lib/vitals';

/** Mounted once in the root layout: web vitals for this document, page_viewed per navigation. */
export function Telemetry() {
  const pathname = usePathname();
  const lastTracked = useRef<string | null>(null);

  useEffect(() => {
    startVitalsReporting();
  }, []);

  useEffect(() => {
    if (lastTracked.current === pathname) return; // React strict mode runs effects twice in dev
    lastTracked.current = pathname;
    trackPageView(pathname);
  }, [pathname]);

  return null;
}
