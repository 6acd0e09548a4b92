import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import * as compiledOut from '@/lib/sentry/compiledOut';
import { SENTRY_BUNDLE_DEFINES, sentryCompiledOut } from '@/lib/sentry/buildSwitch';
import { type IdleWindow, whenIdle } from '@/lib/sentry/whenIdle';

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

  it('the no-op SDK has every function the app calls', () => {
    const used = sdkNamesUsed();
    expect(used.size).toBeGreaterThan(3); // positive control: the scan finds the app's calls
    expect(used).toContain('captureException');
    const missing = [...used].filter((name) => typeof (compiledOut as Record<string, unknown>)[name] !== 'function');
    expect(missing).toEqual([]);
  });

  it('keeps tracing and the Replay worker, drops debug code, iframe and shadow-DOM recording', () => {
    expect(SENTRY_BUNDLE_DEFINES).toEqual({
      __SENTRY_DEBUG__: 'false',
      __RRWEB_EXCLUDE_IFRAME__: 'true',
      __RRWEB_EXCLUDE_SHADOW_DOM__: 'true',
    });
  });
});

function fakeWindow(readyState: string, idle: boolean) {
  const listeners: Array<() => void> = [];
  const win: IdleWindow & { fireLoad: () => void } = {
    document: { readyState },
    addEventListener: (_type, listener) => listeners.push(listener),
    setTimeout: vi.fn((cb: () => void) => cb()),
    fireLoad: () => listeners.splice(0).forEach((l) => l()),
  };
  if (idle) win.requestIdleCallback = vi.fn((cb: () => void) => cb());
  return win;
}

describe('whenIdle (Replay start-up)', () => {
  it('waits for load, then for an idle period with a deadline', () => {
    const task = vi.fn();
    const win = fakeWindow('interactive', true);
    whenIdle(task, 3000, win);
    expect(task).not.toHaveBeenCalled();
    win.fireLoad();
    expect(task).toHaveBeenCalledTimes(1);
    expect(win.requestIdleCallback).toHaveBeenCalledWith(task, { timeout: 3000 });
  });

  it('runs at once (when idle) on a page already loaded, and without requestIdleCallback via a timeout', () => {
    const loaded = fakeWindow('complete', true);
    const task = vi.fn();
    whenIdle(task, 3000, loaded);
    expect(task).toHaveBeenCalledTimes(1);
    const safari = fakeWindow('complete', false);
    whenIdle(task, 3000, safari);
    expect(safari.setTimeout).toHaveBeenCalled();
    expect(task).toHaveBeenCalledTimes(2);
  });
});
