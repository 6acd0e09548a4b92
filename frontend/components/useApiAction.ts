'use client';
import { useCallback, useState } from 'react';
import { ApiError, type FieldErrors } from '@/lib/api/errors';

export type ActionResult<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Pending flag, last error and its field errors around one API call. */
export function useApiAction<A extends unknown[], R>(action: (...args: A) => Promise<R>) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const run = useCallback(
    async (...args: A): Promise<ActionResult<R>> => {
      setPending(true);
      setError(null);
      try {
        return { ok: true, value: await action(...args) };
      } catch (caught) {
        setError(caught);
        return { ok: false, error: caught };
      } finally {
        setPending(false);
      }
    },
    [action],
  );

  const fieldErrors: FieldErrors = error instanceof ApiError ? error.fieldErrors : {};
  return { run, pending, error, fieldErrors, clearError: () => setError(null) };
}
