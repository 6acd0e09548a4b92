// Route templates: the only page names that leave the browser (RUM, business events) or
// become metric labels. Raw paths carry IDs and would create unbounded series.

/** The RUM endpoint's allow-list (docs/contracts.md); anything else is `other`. */
export const PAGE_TEMPLATES = ['/', '/signup', '/login', '/dashboard', '/projects/[id]', '/pricing'] as const;
export type PageTemplate = (typeof PAGE_TEMPLATES)[number];
export type PageLabel = PageTemplate | 'other';

const STATIC_PAGES: ReadonlySet<string> = new Set(['/', '/signup', '/login', '/dashboard', '/pricing']);
const PROJECT_PAGE = /^\/projects\/[^/]+$/;

/** Only the path part, without query, fragment or trailing slash ("/a/?x#y" -> "/a"). */
export function normalisePath(pathOrUrl: string): string {
  let path = pathOrUrl;
  const schemeEnd = path.indexOf('://');
  if (schemeEnd !== -1) {
    const firstSlash = path.indexOf('/', schemeEnd + 3);
    path = firstSlash === -1 ? '/' : path.slice(firstSlash);
  }
  path = path.split(/[?#]/, 1)[0] ?? '/';
  if (!path.startsWith('/')) path = `/${path}`;
  if (path.length > 1) path = path.replace(/\/+$/, '') || '/';
  return path;
}

/** "/projects/5f0c..." -> "/projects/[id]"; unknown pages -> "other". */
export function pageTemplate(pathOrUrl: string): PageLabel {
  const path = normalisePath(pathOrUrl);
  if (STATIC_PAGES.has(path)) return path as PageTemplate;
  if (PROJECT_PAGE.test(path)) return '/projects/[id]';
  return 'other';
}

/** Label for `nextjs_requests_total{route}`: page templates plus a few fixed buckets. */
export function serverRouteLabel(pathOrUrl: string): string {
  const path = normalisePath(pathOrUrl);
  const page = pageTemplate(path);
  if (page !== 'other') return page;
  if (path === '/api/metrics') return '/api/metrics';
  if (path === '/api' || path.startsWith('/api/')) return '/api/[...backend]';
  if (path.startsWith('/_next/static/')) return '/_next/static';
  if (path.startsWith('/_next/image')) return '/_next/image';
  if (path.startsWith('/_next/')) return '/_next/other';
  if (path === '/favicon.ico') return '/favicon.ico';
  if (path === '/_spotlight') return '/_spotlight';
  return '<unmatched>';
}

/** Whether a server route label is one of our rendered pages (HTML or RSC payload). */
export function isPageRoute(label: string): label is PageTemplate {
  return (PAGE_TEMPLATES as readonly string[]).includes(label);
}
