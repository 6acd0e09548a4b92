import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_ID_LENGTH, isValidRequestId, newRequestId, pickRequestId } from '@/lib/api/requestId';

describe('newRequestId', () => {
  it('is 32 lowercase hex characters and passes our own validation', () => {
    const id = newRequestId();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(isValidRequestId(id)).toBe(true);
  });

  it('is fresh on every call', () => {
    const ids = new Set(Array.from({ length: 500 }, () => newRequestId()));
    expect(ids.size).toBe(500);
  });

  it('encodes the random bytes it is given', () => {
    const id = newRequestId((bytes) => bytes.fill(0xab));
    expect(id).toBe('ab'.repeat(16));
  });
});

describe('isValidRequestId', () => {
  it.each(['abc', 'A-Z_0.9', 'x'.repeat(MAX_REQUEST_ID_LENGTH), '0f3c5a2e-8d7b-4c1a-9e6f-112233445566'])('accepts %s', (id) => {
    expect(isValidRequestId(id)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['too long', 'x'.repeat(MAX_REQUEST_ID_LENGTH + 1)],
    ['space', 'a b'],
    ['newline (log injection)', 'abc\ninjected'],
    ['markup', '<script>'],
    ['non-ASCII', 'idé'],
    ['not a string', 42],
    ['null', null],
  ])('rejects %s', (_label, id) => {
    expect(isValidRequestId(id)).toBe(false);
  });
});

describe('pickRequestId', () => {
  it('prefers the first valid candidate (the echoed header)', () => {
    expect(pickRequestId('sent', 'echoed', 'from-body')).toBe('echoed');
  });

  it('skips invalid or missing candidates', () => {
    expect(pickRequestId('sent', 'bad id!', 'from-body')).toBe('from-body');
    expect(pickRequestId('sent', null, undefined)).toBe('sent');
  });
});
