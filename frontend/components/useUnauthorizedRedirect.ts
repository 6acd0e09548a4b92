'use client';
import { usePathname, useRouter } from 'next/navigation';
import { useCallback } from 'react';
import { ApiError } from '@/lib/api/errors';
import { loginPathFor } from '@/lib/navigation';
import { markSignedOut } from '@/lib/sessionHint';

/** Returns a handler: on a 401 it sends the user to /login?next=<here> and reports true. */
export function useUnauthorizedRedirect(): (error: unknown) => boolean {
  const router = useRouter();
  const pathname = usePathname();
  return useCallback(
    (error: unknown) => {
      if (error instanceof ApiError && error.kind === 'unauthorized') {
        markSignedOut();
        router.replace(loginPathFor(pathname));
        return true;
      }
      return false;
    },
    [router, pathname],
  );
}
