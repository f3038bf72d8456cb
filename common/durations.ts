// The one duration grammar of the project: `<number><unit>` (`500ms`, `30s`, `5m`, `5min`, `1h`, `1d`) to
// milliseconds. What a bare number means is the caller's: the runner's flags and PG* variables read it as
// seconds (like libpq's connect_timeout); props and environment data take a unit. Imports nothing.

/** Milliseconds per unit. `m` and `min` are both minutes (the runner's flags and Postgres' own spelling). */
export const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export type DurationUnit = keyof typeof DURATION_UNITS;

/**
 * The one shape of every duration prop: a number and a unit, as Postgres and Kubernetes users write them
 * (`'500ms'`, `'30s'`, `'5min'`, `'1h'`). Constructs convert it at the edge to what a field takes (whole
 * seconds for Kubernetes, milliseconds for Postgres settings).
 */
export type Duration = `${number}${DurationUnit}`;

/**
 * Milliseconds in `text` (a number, optionally with a fraction, and a unit), not rounded; `undefined` when it is
 * not a duration. A bare number is in `bareNumberUnit`, and not a duration when that is not given.
 */
export function parseDuration(text: string, bareNumberUnit?: DurationUnit): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|min|m|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  const unit = (m[2] as DurationUnit | undefined) ?? bareNumberUnit;
  return unit === undefined ? undefined : Number(m[1]) * DURATION_UNITS[unit];
}
