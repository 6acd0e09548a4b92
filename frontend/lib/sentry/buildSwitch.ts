// Build-time Sentry switches read by next.config.ts (pure, unit-tested).

/** SENTRY_BUILD=off|false|0: build the app with the SDK compiled out (benchmark reference only). */
export function sentryCompiledOut(value: string | undefined): boolean {
  return ['off', 'false', '0'].includes((value ?? '').trim().toLowerCase());
}

/**
 * The SDK's tree-shaking flags as bundler defines (the names its code tests:
 * `typeof __SENTRY_DEBUG__ === 'undefined' || __SENTRY_DEBUG__`, `__RRWEB_EXCLUDE_*__`).
 * Not excluded: tracing (the browser -> backend trace) and the Replay compression worker
 * (we host no worker of our own; Replay would then send uncompressed).
 * Booleans, not strings: Next inlines a string value as a string literal, and `'false'` is truthy
 * (scripts/check-bundle-flags.mjs checks the build output).
 */
export const SENTRY_BUNDLE_DEFINES: Readonly<Record<string, boolean>> = {
  __SENTRY_DEBUG__: false,
  __RRWEB_EXCLUDE_IFRAME__: true,
  __RRWEB_EXCLUDE_SHADOW_DOM__: true,
};
