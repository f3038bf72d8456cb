// memoByContent (constructs/internal/content-memo.ts): one computation per content, keyed by the bytes themselves.
import { memoByContent } from '../../../../constructs/internal/content-memo';

function counting() {
  const seen: string[] = [];
  const memo = memoByContent((bytes) => {
    seen.push(bytes.toString());
    return bytes.toString('base64');
  });
  return { memo, seen };
}

describe('memoByContent', () => {
  test('GIVEN two buffers with the same bytes WHEN both are looked up THEN the value is computed once and returned for both', () => {
    const { memo, seen } = counting();
    expect(memo(Buffer.from('bundle'))).toBe(Buffer.from('bundle').toString('base64'));
    expect(memo(Buffer.from('bundle'))).toBe(Buffer.from('bundle').toString('base64'));
    expect(seen).toEqual(['bundle']);
  });

  test('GIVEN buffers of one length with other bytes WHEN looked up THEN each gets its own value', () => {
    const { memo, seen } = counting();
    expect(memo(Buffer.from('aaaa'))).toBe('YWFhYQ==');
    expect(memo(Buffer.from('aaab'))).toBe('YWFhYg==');
    expect(memo(Buffer.from('aaaa'))).toBe('YWFhYQ==');
    expect(seen).toEqual(['aaaa', 'aaab']);
  });

  test("GIVEN a buffer changed by its caller after a lookup WHEN the new bytes are looked up THEN they get their own value, not the old one's", () => {
    const { memo, seen } = counting();
    const buffer = Buffer.from('v1');
    expect(memo(buffer)).toBe('djE=');
    buffer.write('v2');
    expect(memo(buffer)).toBe('djI=');
    expect(memo(Buffer.from('v1'))).toBe('djE=');
    expect(seen).toEqual(['v1', 'v2']);
  });
});
