// Parsing and validation of flag and environment values shared by the core and the CLI.
import { parseDuration } from '../../common/durations';
import { ConfigError } from './errors';

/**
 * A flag or variable holding a duration (common/durations.ts grammar): a bare number is seconds, like libpq's
 * connect_timeout. `source` names the flag or variable in errors. Returns milliseconds.
 */
export function parseDurationSetting(value: string | number, source: string, opts: { allowZero?: boolean } = {}): number {
  const text = String(value).trim();
  const parsed = parseDuration(text, 's');
  const accepted = `a duration such as 30, 30s, 500ms, 5m or 1h (a bare number is seconds)${opts.allowZero ? '; 0 disables' : ', more than 0'}`;
  if (parsed === undefined) throw new ConfigError(`${source}=${JSON.stringify(text)} is not valid: expected ${accepted}`);
  const ms = parsed;
  if (!Number.isFinite(ms) || ms > 7 * 24 * 3_600_000 || (ms === 0 && !opts.allowZero) || (ms > 0 && ms < 1)) {
    throw new ConfigError(`${source}=${JSON.stringify(text)} is out of range: expected ${accepted}, at most 7 days`);
  }
  return Math.round(ms);
}

/** A whole number within [min, max]. */
export function parseInteger(value: string | number, source: string, min: number, max: number): number {
  const text = String(value).trim();
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new ConfigError(`${source}=${JSON.stringify(text)} is not valid: expected a whole number from ${min} to ${max}`);
  }
  return Number(text);
}
