// Anonymous views of the signup funnel's pages to POST /api/rum/pageviews (page_views_total{page}):
// the visitor step of visitor -> signup -> upgrade. Nothing identifies the visitor: no user or
// session ID, no cookie sent or set (lib/rum/beacon.ts), only the route template. Signed-in users'
// navigations are business events as well (lib/events.ts); this count is for everyone.

import { type PageLabel, pageTemplate } from '../routes';
import { postBeacon } from './beacon';
import { PAGE_VIEW_BEACON_PATH } from './paths';

export const FUNNEL_PAGES: ReadonlySet<PageLabel> = new Set<PageLabel>(['/', '/pricing', '/signup']);

export type PageViewSender = (page: PageLabel) => Promise<void>;

export const sendPageView: PageViewSender = async (page) => {
  await postBeacon(PAGE_VIEW_BEACON_PATH, { page });
};

/** Count a view of `pathname` if it is a funnel page; returns the page counted, or null. */
export function trackAnonymousPageView(pathname: string, send: PageViewSender = sendPageView): PageLabel | null {
  const page = pageTemplate(pathname);
  if (!FUNNEL_PAGES.has(page)) return null;
  void send(page);
  return page;
}
