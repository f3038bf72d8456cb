// The pause between lock retries: doubled from the first backoff up to a cap, half of it random ("equal jitter").
import { LOCK_RETRY_BACKOFF_CAP_MS, lockRetryPause } from '../../../src/migrate/runner';

describe('lockRetryPause', () => {
  test.each([
    [0, 500, 250, 500],
    [1, 500, 500, 1000],
    [3, 500, 2000, 4000],
    [10, 500, LOCK_RETRY_BACKOFF_CAP_MS / 2, LOCK_RETRY_BACKOFF_CAP_MS],
  ])('GIVEN retry %i after a first backoff of %i ms WHEN paused THEN the pause is between %i and %i ms', (attempt, first, min, max) => {
    expect(lockRetryPause(attempt, first, () => 0)).toBe(min);
    expect(lockRetryPause(attempt, first, () => 0.999999)).toBeLessThanOrEqual(max);
    expect(lockRetryPause(attempt, first, () => 0.999999)).toBeGreaterThan(max - 2);
  });

  test('GIVEN a zero first backoff WHEN paused THEN the runner retries at once', () => {
    expect(lockRetryPause(4, 0)).toBe(0);
  });
});
