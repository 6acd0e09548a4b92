// Browser errors to POST /api/rum/errors, counted by the backend as
// browser_errors_total{error_type, page}, so the error alerts cover the browser
// (ErrorBurst/ErrorStorm as service="frontend", NewBrowserErrorType).
//
// What leaves the browser: the error's class name (`error.name`, e.g. "TypeError") if it is a
// plain identifier, else "Error", and the page's route template. Never the message, the stack or
// the URL: those go to Sentry only, through its scrubbing (lib/sentry).
// Sources: uncaught errors and unhandled rejections (window listeners, startErrorReporting) and
// crashes an error boundary caught (app/global-error.tsx calls reportBrowserError). The same
// Error object is counted once; at most MAX_REPORTS_PER_DOCUMENT per page load, so a crash loop
// cannot flood the endpoint (the backend also rate-limits per client).

import { postBeacon } from './beacon';
import { ERROR_BEACON_PATH } from './paths';
import { pageTemplate } from '../routes';

export { ERROR_BEACON_PATH } from './paths';
export const MAX_REPORTS_PER_DOCUMENT = 20;
// The backend's ERROR_TYPE_PATTERN (backend/app/rum/bounds.py).
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$/;

export interface BrowserErrorPayload {
  type: string;
  page: string;
}

/** A bounded error type: the class name of an Error, "UnhandledRejection" for a non-Error reason. */
export function errorType(error: unknown): string {
  if (error instanceof Error || (typeof error === 'object' && error !== null && 'name' in error)) {
    const name = String((error as { name?: unknown }).name ?? '');
    return IDENTIFIER.test(name) ? name : 'Error';
  }
  return 'Error';
}

export function toErrorPayload(error: unknown, href: string): BrowserErrorPayload {
  return { type: errorType(error), page: pageTemplate(href) };
}

export type ErrorSender = (payload: BrowserErrorPayload) => Promise<void>;

export const sendBrowserError: ErrorSender = async (payload) => {
  await postBeacon(ERROR_BEACON_PATH, payload);
};

const seen = new WeakSet<object>();
let sent = 0;

/** Count one error (once per Error object, at most MAX_REPORTS_PER_DOCUMENT per document). */
export function reportBrowserError(
  error: unknown,
  send: ErrorSender = sendBrowserError,
  href: () => string = () => window.location.href,
): boolean {
  if (typeof error === 'object' && error !== null) {
    if (seen.has(error)) return false;
    seen.add(error);
  }
  if (sent >= MAX_REPORTS_PER_DOCUMENT) return false;
  sent += 1;
  void send(toErrorPayload(error, href()));
  return true;
}

interface ErrorEventTarget {
  addEventListener(type: 'error' | 'unhandledrejection', listener: (event: Event) => void): void;
}

let started = false;

/** Uncaught errors and unhandled rejections of this document (once; React may mount the caller twice). */
export function startErrorReporting(target: ErrorEventTarget = window, send: ErrorSender = sendBrowserError): boolean {
  if (started) return false;
  started = true;
  target.addEventListener('error', (event) => {
    const { error } = event as ErrorEvent;
    // Resource load failures (img, script) are 'error' events without an Error: not crashes.
    if (error !== undefined && error !== null) reportBrowserError(error, send);
  });
  target.addEventListener('unhandledrejection', (event) => {
    const { reason } = event as PromiseRejectionEvent;
    reportBrowserError(reason instanceof Error ? reason : { name: 'UnhandledRejection' }, send);
  });
  return true;
}

/** Tests only. */
export function resetErrorReportingForTests(): void {
  started = false;
  sent = 0;
}
