// A non-secret hint that this browser has a session, so the UI can pick nav links and
// skip business events that would only get a 401. The session itself is the backend's
// httpOnly session cookie (PRODUCT_SESSION_COOKIE); no token is ever stored here.
import { PRODUCT_SESSION_COOKIE, PRODUCT_SLUG } from './product';

/** The localStorage key of the hint, `<slug>_signed_in` (the e2e journeys set and break it by this name). */
export const SIGNED_IN_HINT_KEY = `${PRODUCT_SLUG}_signed_in`;
const KEY = SIGNED_IN_HINT_KEY;

/** The backend's session cookie (backend/app/users/deps.py SESSION_COOKIE); server pages test only its presence. */
export const SESSION_COOKIE = PRODUCT_SESSION_COOKIE;
const listeners = new Set<() => void>();

function storage(): Storage | null {
  try {
    return typeof window === 'undefined' ? null : window.localStorage;
  } catch {
    return null; // storage disabled
  }
}

export function isProbablySignedIn(): boolean {
  return storage()?.getItem(KEY) === '1';
}

export function markSignedIn(): void {
  storage()?.setItem(KEY, '1');
  listeners.forEach((l) => l());
}

export function markSignedOut(): void {
  storage()?.removeItem(KEY);
  listeners.forEach((l) => l());
}

export function onSessionHintChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
