// Run non-critical start-up work once the page has settled: after the load event, after a quiet
// period with no long task on the main thread, in an idle callback. It then does not compete with the
// first paint, hydration and the page's own start-up work (Lighthouse's TBT, the user's first input).

export interface IdleWindow {
  document: { readyState: string };
  addEventListener(type: 'load', listener: () => void, options: { once: true }): void;
  requestIdleCallback?: (callback: () => void, options: { timeout: number }) => unknown;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Calls `listener` on each long task (> 50 ms) from now on; returns a function that stops that. */
  onLongTask?: (listener: () => void) => () => void;
}

export interface SettleOptions {
  /** No long task for this long after load (each one restarts the wait). */
  quietMs: number;
  /** At the latest this long after load, quiet or not. */
  maxWaitMs: number;
}

/** Long tasks through PerformanceObserver, where the browser reports them (Chromium). */
function longTaskObserver(listener: () => void): () => void {
  if (typeof PerformanceObserver === 'undefined' || !PerformanceObserver.supportedEntryTypes?.includes('longtask')) {
    return () => {};
  }
  const observer = new PerformanceObserver(() => listener());
  observer.observe({ type: 'longtask' });
  return () => observer.disconnect();
}

export function browserIdleWindow(): IdleWindow {
  const win = window as unknown as IdleWindow;
  return {
    document: win.document,
    addEventListener: win.addEventListener.bind(win),
    requestIdleCallback: typeof window.requestIdleCallback === 'function' ? window.requestIdleCallback.bind(window) : undefined,
    setTimeout: (cb, ms) => window.setTimeout(cb, ms),
    clearTimeout: (handle) => window.clearTimeout(handle as number),
    onLongTask: longTaskObserver,
  };
}

/** `task` once the page has loaded and then settled (see SettleOptions), in an idle callback. */
export function whenSettled(task: () => void, options: SettleOptions, win: IdleWindow = browserIdleWindow()): void {
  const settled = () => {
    let done = false;
    let waited = 0;
    let timer: unknown;
    let stop = () => {};
    const run = () => {
      if (done) return;
      done = true;
      stop();
      if (typeof win.requestIdleCallback === 'function') win.requestIdleCallback(task, { timeout: 1000 });
      else task();
    };
    const arm = () => {
      if (done) return;
      win.clearTimeout(timer);
      const wait = Math.min(options.quietMs, Math.max(0, options.maxWaitMs - waited));
      timer = win.setTimeout(() => {
        waited += wait;
        if (waited >= options.maxWaitMs || !pending) run();
        else {
          pending = false;
          arm();
        }
      }, wait);
    };
    // A long task during the wait means "not quiet yet": wait another quietMs (bounded by maxWaitMs).
    let pending = false;
    stop = win.onLongTask?.(() => {
      pending = true;
    }) ?? stop;
    arm();
  };
  if (win.document.readyState === 'complete') settled();
  else win.addEventListener('load', settled, { once: true });
}
