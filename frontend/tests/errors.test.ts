import { describe, expect, it } from 'vitest';
import { kindForStatus, mapValidationErrors, parseRetryAfter, userMessage } from '@/lib/api/errors';

describe('mapValidationErrors (FastAPI 422 detail -> fields)', () => {
  it('maps body fields by their loc, dropping the "body" root', () => {
    const mapped = mapValidationErrors([
      { loc: ['body', 'email'], msg: 'value is not a valid email address', type: 'value_error' },
      { loc: ['body', 'password'], msg: 'String should have at least 8 characters', type: 'string_too_short' },
      { loc: ['body', 'password'], msg: 'Value error, too common', type: 'value_error' },
    ]);
    expect(mapped.fieldErrors).toEqual({
      email: ['value is not a valid email address'],
      password: ['String should have at least 8 characters', 'too common'],
    });
    expect(mapped.formErrors).toEqual([]);
  });

  it('maps query and path parameters and joins nested locations', () => {
    const mapped = mapValidationErrors([
      { loc: ['query', 'limit'], msg: 'Input should be less than or equal to 100' },
      { loc: ['path', 'project_id'], msg: 'Input should be a valid UUID' },
      { loc: ['body', 'items', 0, 'title'], msg: 'Field required' },
    ]);
    expect(Object.keys(mapped.fieldErrors).sort()).toEqual(['items.0.title', 'limit', 'project_id']);
  });

  it('turns errors without a field (malformed JSON body) into form errors', () => {
    const mapped = mapValidationErrors([{ loc: ['body'], msg: 'JSON decode error' }]);
    expect(mapped.fieldErrors).toEqual({});
    expect(mapped.formErrors).toEqual(['JSON decode error']);
  });

  it('accepts a plain string detail and never returns nothing', () => {
    expect(mapValidationErrors('Bad page').formErrors).toEqual(['Bad page']);
    expect(mapValidationErrors(undefined).formErrors).toHaveLength(1);
    expect(mapValidationErrors([null, 3, { nope: true }]).formErrors.length).toBeGreaterThan(0);
  });
});

describe('kindForStatus', () => {
  it.each([
    [422, 'validation'],
    [401, 'unauthorized'],
    [404, 'not_found'],
    [409, 'conflict'],
    [429, 'rate_limited'],
    [400, 'client'],
    [500, 'server'],
    [502, 'server'],
    [504, 'server'],
  ] as const)('%i -> %s', (status, kind) => {
    expect(kindForStatus(status)).toBe(kind);
  });
});

describe('messages', () => {
  it('reads Retry-After seconds and ignores dates or junk', () => {
    expect(parseRetryAfter('30')).toBe(30);
    expect(parseRetryAfter('1.2')).toBe(2);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT')).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });

  it('uses the backend detail for 401/409 and a wait hint for 429', () => {
    expect(userMessage('unauthorized', 'Invalid email or password', null)).toBe('Invalid email or password');
    expect(userMessage('conflict', 'Email already registered', null)).toBe('Email already registered');
    expect(userMessage('rate_limited', undefined, 42)).toContain('42 s');
    expect(userMessage('server', 'Traceback (most recent call last)', null)).toBe('Something went wrong on our side.');
  });
});
