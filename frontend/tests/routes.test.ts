import { describe, expect, it } from 'vitest';
import { safeNextPath } from '@/lib/navigation';
import { PAGE_TEMPLATES, isPageRoute, normalisePath, pageTemplate, serverRouteLabel } from '@/lib/routes';

describe('pageTemplate', () => {
  it.each([
    ['/', '/'],
    ['/signup', '/signup'],
    ['/login?next=%2Fdashboard', '/login'],
    ['/dashboard/', '/dashboard'],
    ['/dashboard?page=3', '/dashboard'],
    ['/projects/0f3c5a2e-8d7b-4c1a-9e6f-112233445566', '/projects/[id]'],
    ['/projects/anything#tasks', '/projects/[id]'],
    ['http://127.0.0.1:3000/projects/abc?x=1', '/projects/[id]'],
    ['https://app.example/pricing', '/pricing'],
    ['https://app.example', '/'],
  ])('%s -> %s', (path, template) => {
    expect(pageTemplate(path)).toBe(template);
  });

  it.each(['/projects', '/projects/', '/projects/a/b', '/admin', '/signup/extra', '/favicon.ico'])('%s -> other', (path) => {
    expect(pageTemplate(path)).toBe('other');
  });

  it('only ever returns the RUM allow-list or "other"', () => {
    for (const path of ['/x', '/projects/1', '/../etc/passwd', '//evil.example/', '']) {
      expect([...PAGE_TEMPLATES, 'other']).toContain(pageTemplate(path));
    }
  });
});

describe('serverRouteLabel (bounded metric labels)', () => {
  it.each([
    ['/dashboard?_rsc=abc', '/dashboard'],
    ['/projects/123?_rsc=1', '/projects/[id]'],
    ['/api/metrics', '/api/metrics'],
    ['/api/projects/123/tasks', '/api/[...backend]'],
    ['/_next/static/chunks/abc.js', '/_next/static'],
    ['/_next/image?url=x', '/_next/image'],
    ['/favicon.ico', '/favicon.ico'],
    ['/wp-login.php', '<unmatched>'],
    ['/projects/1/2/3', '<unmatched>'],
  ])('%s -> %s', (url, label) => {
    expect(serverRouteLabel(url)).toBe(label);
  });

  it('marks only pages as renders', () => {
    expect(isPageRoute('/projects/[id]')).toBe(true);
    expect(isPageRoute('/api/metrics')).toBe(false);
    expect(isPageRoute('<unmatched>')).toBe(false);
  });

  it('normalises paths', () => {
    expect(normalisePath('')).toBe('/');
    expect(normalisePath('dashboard')).toBe('/dashboard');
    expect(normalisePath('/a///')).toBe('/a');
  });
});

describe('safeNextPath', () => {
  it('keeps local paths and refuses open redirects', () => {
    expect(safeNextPath('/projects/1?x=2')).toBe('/projects/1?x=2');
    expect(safeNextPath('//evil.example')).toBe('/dashboard');
    expect(safeNextPath('/\\evil.example')).toBe('/dashboard');
    expect(safeNextPath('https://evil.example')).toBe('/dashboard');
    expect(safeNextPath(null)).toBe('/dashboard');
  });
});
