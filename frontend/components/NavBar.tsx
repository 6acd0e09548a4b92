'use client';
import Link from 'next/link';
import { useState, useSyncExternalStore } from 'react';
import { api } from '@/lib/api/endpoints';
import { ApiError } from '@/lib/api/errors';
import { PRODUCT_NAME } from '@/lib/product';
import { isProbablySignedIn, markSignedOut, onSessionHintChange } from '@/lib/sessionHint';

export function NavBar() {
  const signedIn = useSyncExternalStore(onSessionHintChange, isProbablySignedIn, () => false);
  const [leaving, setLeaving] = useState(false);
  const [logoutError, setLogoutError] = useState<ApiError | null>(null);

  async function logout() {
    setLeaving(true);
    setLogoutError(null);
    try {
      await api.logout();
    } catch (error) {
      // 401: already logged out; a 5xx or network failure keeps the session, so say so.
      if (error instanceof ApiError && error.isSupportCase) {
        setLogoutError(error);
        setLeaving(false);
        return;
      }
    }
    markSignedOut();
    // A full page load, not a client-side navigation: nothing of the previous user's pages stays
    // in memory, and a request of the old page still in flight (answered 401 now) cannot send the
    // browser to /login?next=... after we chose /login.
    window.location.assign('/login');
  }

  return (
    <header className="nav">
      <div className="nav-inner">
        <Link className="brand" href="/">
          {PRODUCT_NAME}
        </Link>
        <Link href="/pricing">Pricing</Link>
        {signedIn ? (
          <>
            <Link href="/dashboard">Dashboard</Link>
            <button className="btn btn-secondary btn-small" onClick={logout} disabled={leaving}>
              {leaving ? 'Logging out…' : 'Log out'}
            </button>
          </>
        ) : (
          <>
            <Link href="/login">Log in</Link>
            <Link className="btn btn-small" href="/signup">
              Sign up
            </Link>
          </>
        )}
      </div>
      {logoutError && (
        <div className="nav-inner">
          <span className="field-error" role="alert">
            Logout failed. Request ID: <code>{logoutError.requestId}</code> — quote this when you contact support.
          </span>
        </div>
      )}
    </header>
  );
}
