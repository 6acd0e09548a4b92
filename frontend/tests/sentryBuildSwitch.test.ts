import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import * as compiledOut from '@/lib/sentry/compiledOut';
import { SENTRY_BUNDLE_DEFINES, sentryCompiledOut } from '@/lib/sentry/buildSwitch';
import { type IdleWindow, whenSettled } from '@/lib/sentry/whenIdle';

const root = path.resolve(__dirname, '..');

function appSources(dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (['node_modules', '.next', 'tests', 'scripts'].includes(name)) return [];
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return appSources(full);
    return /\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Every SDK name the app uses: `Sentry.x` of a namespace import, and `import { x } from '@sentry/nextjs'`. */
function sdkNamesUsed(): Set<string> {
  const names = new Set<string>();
  for (const file of appSources()) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes("from '@sentry/nextjs'")) continue;
    for (const m of text.matchAll(/\bSentry\.([A-Za-z_]\w*)/g)) names.add(m[1]!);
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from '@sentry\/nextjs'/g)) {
      for (const part of m[1]!.split(',')) {
        const name = part.trim().split(/\s+as\s+/)[0]?.replace(/^type\s+/, '');
        if (name) names.add(name);
      }
    }
  }
  return names;
}

describe('the Sentry build switch (next.config.ts)', () => {
  it('compiles Sentry out only when asked to', () => {
    for (const off of ['off', 'OFF', 'false', '0', ' off ']) expect(sentryCompiledOut(off)).toBe(true);
    for (const on of [undefined, '', 'on', '1', 'true']) expect(sentryCompiledOut(on)).toBe(false);
  });

  it('the no-op SDK has every name the app uses', () => {
    const used = sdkNamesUsed();
    expect(used.size).toBeGreaterThan(3); // positive control: the scan finds the app's calls
    expect(used).toContain('captureException');
    const missing = [...used].filter((name) => (compiledOut as Record<string, unknown>)[name] === undefined);
    expect(missing).toEqual([]);
  });

  it('keeps tracing and the Replay worker, drops debug code, iframe and shadow-DOM recording', () => {
    // Booleans, not strings: a string define is inlined as a string literal ('false' is truthy).
    expect(SENTRY_BUNDLE_DEFINES).toStrictEqual({
      __SENTRY_DEBUG__: false,
      __RRWEB_EXCLUDE_IFRAME__: true,
      __RRWEB_EXCLUDE_SHADOW_DOM__: true,
    });
  });
});

function fakeWindow(readyState: string, idle: boolean) {
  const listeners: Array<() => void> = [];
  const timers: Array<{ cb: () => void; ms: number; live: boolean }> = [];
  let longTask: (() => void) | null = null;
  const win: IdleWindow & { fireLoad: () => void; tick: () => number; longTask: () => void; timers: typeof timers } = {
    document: { readyState },
    addEventListener: (_type, listener) => listeners.push(listener),
    setTimeout: (cb, ms) => {
      const timer = { cb, ms, live: true };
      timers.push(timer);
      return timer;
    },
    clearTimeout: (handle) => {
      if (handle) (handle as { live: boolean }).live = false;
    },
    onLongTask: (listener) => {
      longTask = listener;
      return () => {
        longTask = null;
      };
    },
    fireLoad: () => listeners.splice(0).forEach((l) => l()),
    /** Fires the next live timer; returns its delay. */
    tick: () => {
      const timer = timers.find((t) => t.live);
      if (!timer) return -1;
      timer.live = false;
      timer.cb();
      return timer.ms;
    },
    longTask: () => longTask?.(),
    timers,
  };
  if (idle) win.requestIdleCallback = vi.fn((cb: () => void) => cb());
  return win;
}

describe('whenSettled (Replay start-up)', () => {
  const options = { quietMs: 2000, maxWaitMs: 10_000 };

  it('waits for load, then for a quiet period, then for an idle callback', () => {
    const task = vi.fn();
    const win = fakeWindow('interactive', true);
    whenSettled(task, options, win);
    expect(win.tick()).toBe(-1); // nothing scheduled before load
    win.fireLoad();
    expect(task).not.toHaveBeenCalled();
    expect(win.tick()).toBe(2000);
    expect(task).toHaveBeenCalledTimes(1);
    expect(win.requestIdleCallback).toHaveBeenCalled();
  });

  it('a long task restarts the wait, up to the deadline', () => {
    const task = vi.fn();
    const win = fakeWindow('complete', false);
    whenSettled(task, options, win);
    let waited = 0;
    for (let i = 0; i < 10 && task.mock.calls.length === 0; i++) {
      win.longTask(); // the page never settles
      waited += win.tick();
    }
    expect(task).toHaveBeenCalledTimes(1);
    expect(waited).toBe(10_000);
    win.longTask();
    expect(win.tick()).toBe(-1); // observer stopped, nothing more scheduled
  });

  it('a quiet page after a busy start', () => {
    const task = vi.fn();
    const win = fakeWindow('complete', true);
    whenSettled(task, options, win);
    win.longTask();
    win.tick();
    expect(task).not.toHaveBeenCalled();
    win.tick();
    expect(task).toHaveBeenCalledTimes(1);
  });
});
