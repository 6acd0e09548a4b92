'use client';
import * as Sentry from '@sentry/nextjs';
import { useEffect, useState } from 'react';
import { PRODUCT_NAME } from '@/lib/product';
import { reportBrowserError } from '@/lib/rum/errors';

// Last resort: the root layout itself failed, so this renders its own <html> and uses no app CSS.
export default function GlobalError({ error }: { error: Error & { digest?: string } }) {
  const [eventId, setEventId] = useState<string | null>(null);
  useEffect(() => {
    setEventId(Sentry.captureException(error, { tags: error.digest ? { digest: error.digest } : {} }));
    reportBrowserError(error); // counted for the error alerts (type and page only)
  }, [error]);

  return (
    <html lang="en">
      <body style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 640, margin: '4rem auto', padding: '0 1rem' }}>
        <h1>{PRODUCT_NAME} is having trouble</h1>
        <p>The error has been reported. Please reload the page.</p>
        {(eventId || error.digest) && (
          <p>
            Reference: <code>{eventId ?? error.digest}</code> — quote this when you contact support.
          </p>
        )}
        <a href="/">Reload {PRODUCT_NAME}</a>
      </body>
    </html>
  );
}
