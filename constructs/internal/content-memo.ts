// Memoizes a function of a file's bytes by the bytes themselves, for the life of the process: synth derives the same
// values (base64, checksums) from the same runner bundle and migration files for every environment. Entries are keyed
// by content (the length, then a byte comparison), never by path or object identity, so two different contents never
// share a result; the memo keeps its own copy of the bytes, so a caller changing its buffer later changes nothing.
export function memoByContent<T>(compute: (bytes: Buffer) => T): (bytes: Buffer) => T {
  const byLength = new Map<number, Array<{ readonly bytes: Buffer; readonly value: T }>>();
  return (bytes) => {
    const entries = byLength.get(bytes.length) ?? [];
    const hit = entries.find((e) => e.bytes.equals(bytes));
    if (hit) return hit.value;
    const value = compute(bytes);
    entries.push({ bytes: Buffer.from(bytes), value });
    byLength.set(bytes.length, entries);
    return value;
  };
}
