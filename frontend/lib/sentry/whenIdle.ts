// Run non-critical start-up work once the page has loaded and the main thread is idle, so that it
// does not compete with the first paint and hydration (Lighthouse's TBT, the user's first input).

export interface IdleWindow {
  document: { readyState: string };
  addEventListener(type: 'load', listener: () => void, options: { once: true }): void;
  requestIdleCallback?: (callback: () => void, options: { timeout: number }) => unknown;
  setTimeout(callback: () => void, ms: number): unknown;
}

/**
 * `task` after the window's load event, in the first idle period after it (at the latest
 * `timeoutMs` after load, when the page never goes idle). Browsers without requestIdleCallback
 * (Safari) get a short timeout after load.
 */
export function whenIdle(task: () => void, timeoutMs: number, win: IdleWindow = window as unknown as IdleWindow): void {
  const schedule = () => {
    if (typeof win.requestIdleCallback === 'function') win.requestIdleCallback(task, { timeout: timeoutMs });
    else win.setTimeout(task, 200);
  };
  if (win.document.readyState === 'complete') schedule();
  else win.addEventListener('load', schedule, { once: true });
}
