// Business events from the browser go to the backend (POST /api/events), which writes them
// to its outbox with the user's distinct ID and delivers them to Mixpanel. No Mixpanel token
// or SDK in the browser.

import { api } from './api/endpoints';
import { ApiError } from './api/errors';
import type { BusinessEvent } from './api/types';
import { pageTemplate } from './routes';
import { isProbablySignedIn, markSignedOut } from './sessionHint';

async function send(event: BusinessEvent, pathname: string): Promise<void> {
  try {
    await api.sendEvent(event, pageTemplate(pathname));
  } catch (error) {
    // 401: the session is gone; anything else was reported by the client (5xx) or is a page unload.
    if (error instanceof ApiError && error.kind === 'unauthorized') markSignedOut();
  }
}

/** page_viewed for each navigation; only with a session (the endpoint requires one). */
export function trackPageView(pathname: string): void {
  if (!isProbablySignedIn()) return;
  void send('page_viewed', pathname);
}

export function trackUpgradeClicked(pathname: string): Promise<void> {
  return send('upgrade_clicked', pathname);
}
