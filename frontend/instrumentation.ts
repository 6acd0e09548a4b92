import * as Sentry from '@sentry/nextjs';

export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    await import('./sentry.server.config');
    const { installRequestMetrics } = await import('./lib/metrics/requestTiming');
    installRequestMetrics();
    const { installForwardedFor } = await import('./lib/server/forwardedFor');
    installForwardedFor();
    const { installResponseHeaderCleaning } = await import('./lib/server/responseHeaders');
    installResponseHeaderCleaning();
    const { installResponseListenerBudget } = await import('./lib/server/listenerBudget');
    installResponseListenerBudget();
  }
  if (process.env.NEXT_RUNTIME === 'edge') {
    await import('./sentry.edge.config');
  }
}

// Errors thrown while rendering server components, in route handlers and server actions.
export const onRequestError = Sentry.captureRequestError;
