'use client';
import * as Sentry from '@sentry/nextjs';
import { useEffect, useState } from 'react';
import { reportBrowserError } from '@/lib/rum/errors';

// Errors thrown while rendering a page (below the root layout). The event ID is what support
// can look up in Sentry; the digest identifies a server-side error in the server logs.
export default function ErrorBoundary({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const [eventId, setEventId] = useState<string | null>(null);
  useEffect(() => {
    setEventId(Sentry.captureException(error, { tags: error.digest ? { digest: error.digest } : {} }));
    reportBrowserError(error); // counted for the error alerts (type and page only)
  }, [error]);

  return (
    <div className="card" role="alert">
      <h1>Something went wrong</h1>
      <p className="muted">The error has been reported.</p>
      {(eventId || error.digest) && (
        <p>
          Reference: <code data-testid="error-reference">{eventId ?? error.digest}</code> — quote this when you contact support.
        </p>
      )}
      <button className="btn" onClick={reset}>
        Try again
      </button>
    </div>
  );
}
