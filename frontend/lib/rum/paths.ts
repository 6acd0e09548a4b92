// The RUM beacon endpoints (backend/app/rum/routes.py).
export const ERROR_BEACON_PATH = '/api/rum/errors';
export const PAGE_VIEW_BEACON_PATH = '/api/rum/pageviews';
