/** A `?next=` target we are willing to redirect to: a local path only (no "//host", no scheme). */
export function safeNextPath(value: string | null | undefined, fallback = '/dashboard'): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return fallback;
  if (value.length > 512 || /[\u0000-\u001f]/.test(value)) return fallback;
  return value;
}

export function loginPathFor(currentPath: string): string {
  return `/login?next=${encodeURIComponent(currentPath)}`;
}
