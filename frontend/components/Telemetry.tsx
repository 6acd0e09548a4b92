'use client';
import { usePathname } from 'next/navigation';
import { useEffect, useRef } from 'react';
import { trackPageView } from '@/lib/events';
import { startErrorReporting } from '@/lib/rum/errors';
import { trackAnonymousPageView } from '@/lib/rum/pageViews';
import { startVitalsReporting } from '@/lib/vitals';

/** Mounted once in the root layout: web vitals and error counts for this document, page_viewed and the
 * anonymous funnel page view per navigation. */
export function Telemetry() {
  const pathname = usePathname();
  const lastTracked = useRef<string | null>(null);

  useEffect(() => {
    startVitalsReporting();
    startErrorReporting();
  }, []);

  useEffect(() => {
    if (lastTracked.current === pathname) return; // React strict mode runs effects twice in dev
    lastTracked.current = pathname;
    trackPageView(pathname);
    trackAnonymousPageView(pathname);
  }, [pathname]);

  return null;
}
