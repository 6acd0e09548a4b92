import { describe, expect, it, vi } from 'vitest';

const calls: string[] = [];
const client = { name: 'client' };
vi.mock('@sentry/nextjs', () => ({
  addIntegration: (integration: { name: string; afterAllSetup?: unknown }) =>
    calls.push(`add ${integration.name}${integration.afterAllSetup ? ' with afterAllSetup' : ''}`),
  webVitalsIntegration: () => ({ name: 'WebVitals' }),
  browserTracingIntegration: () => ({
    name: 'BrowserTracing',
    setup: () => calls.push('setup'),
    afterAllSetup: (c: unknown) => calls.push(`afterAllSetup(${c === client ? 'client' : String(c)})`),
  }),
  getClient: () => client,
  captureRouterTransitionStart: () => undefined,
}));

import { startTracing } from '@/lib/sentry/tracing';

describe('startTracing (lib/sentry/tracing.ts)', () => {
  it('does what addIntegration(browserTracingIntegration()) does, in three tasks, in the same order', () => {
    const queued: Array<() => void> = [];
    startTracing((step) => queued.push(step));
    expect(calls).toEqual(['add WebVitals']); // task 1: web vitals registered first, so tracing does not add its own
    queued.shift()!();
    expect(calls).toEqual(['add WebVitals', 'add BrowserTracing']); // task 2: setup only
    queued.shift()!();
    expect(calls).toEqual(['add WebVitals', 'add BrowserTracing', 'afterAllSetup(client)']); // task 3
    expect(queued).toEqual([]);
  });
});
