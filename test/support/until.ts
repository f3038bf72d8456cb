// Polling for integration tests: wait for a condition a real server or process reaches in its own time.

/**
 * Calls `probe` every 50 ms until it returns a truthy value, and returns that value. After `limitMs` it throws an
 * error naming `what`. A probe that throws ends the wait with its error.
 */
export async function until<T>(probe: () => Promise<T | undefined | false>, what: string, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`gave up after ${limitMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
