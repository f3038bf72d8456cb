// Parses and renders the sizes and durations that Postgres and Kubernetes settings use, so that
// `512MB`, `512Mi`, `524288kB` and `536870912` all mean the same number of bytes. Durations use the one
// grammar of common/durations.ts.
import { parseDuration as parseCommonDuration } from './durations';

const KIB = 1024;

/** Multipliers (to bytes) for Postgres memory units and Kubernetes quantity suffixes. */
const SIZE_UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  // Postgres memory units are powers of 1024 and case-sensitive (kB, MB, GB, TB).
  kB: KIB,
  MB: KIB ** 2,
  GB: KIB ** 3,
  TB: KIB ** 4,
  // Kubernetes binary suffixes.
  Ki: KIB,
  Mi: KIB ** 2,
  Gi: KIB ** 3,
  Ti: KIB ** 4,
  // Kubernetes decimal suffixes.
  k: 1000,
  M: 1000 ** 2,
  G: 1000 ** 3,
  T: 1000 ** 4,
};

/** The accepted unit list, for error messages. */
export const SIZE_UNITS_ACCEPTED = 'a number of bytes or a size in kB/MB/GB/TB (Postgres) or Ki/Mi/Gi/Ti/k/M/G/T (Kubernetes)';

/** Bytes in a size string or number; `undefined` when it cannot be parsed. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!m) return undefined;
  const unit = m[2];
  if (!(unit in SIZE_UNITS)) return undefined;
  return Math.floor(Number(m[1]) * SIZE_UNITS[unit]);
}

/** Multipliers of the Kubernetes quantity suffixes (binary and decimal) used for memory and storage. */
const QUANTITY_SUFFIXES: Record<string, number> = {
  '': 1,
  Ki: KIB,
  Mi: KIB ** 2,
  Gi: KIB ** 3,
  Ti: KIB ** 4,
  Pi: KIB ** 5,
  k: 1000,
  M: 1000 ** 2,
  G: 1000 ** 3,
  T: 1000 ** 4,
  P: 1000 ** 5,
};

/** Bytes in a Kubernetes memory or storage quantity (`512Mi`, `2Gi`, `1G`, `1073741824`); `undefined` otherwise (`512MB` is Postgres', not Kubernetes'). */
export function parseQuantity(value: string): number | undefined {
  const m = typeof value === 'string' ? /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(value) : null;
  return m ? Math.floor(Number(m[1]) * QUANTITY_SUFFIXES[m[2] ?? '']) : undefined;
}

/** Renders bytes in the largest Postgres unit that divides them exactly (kB at least). */
export function formatPgSize(bytes: number): string {
  const kb = Math.floor(bytes / KIB);
  for (const [unit, div] of [
    ['TB', KIB ** 3],
    ['GB', KIB ** 2],
    ['MB', KIB],
  ] as const) {
    if (kb >= div && kb % div === 0) return `${kb / div}${unit}`;
  }
  return `${kb}kB`;
}

/** Renders bytes as a Kubernetes quantity (Gi/Mi/Ki when exact). */
export function formatK8sSize(bytes: number): string {
  for (const [unit, div] of [
    ['Ti', KIB ** 4],
    ['Gi', KIB ** 3],
    ['Mi', KIB ** 2],
    ['Ki', KIB],
  ] as const) {
    if (bytes >= div && bytes % div === 0) return `${bytes / div}${unit}`;
  }
  return String(bytes);
}

export const DURATION_UNITS_ACCEPTED = 'a duration such as "30s": a number with a unit of ms, s, m/min, h or d';

/** Whole milliseconds in a duration prop (`'30s'`, `'1500ms'`, `'5min'`); `undefined` for anything else, a bare number included. */
export function parseDuration(value: string): number | undefined {
  const ms = parseCommonDuration(value);
  return ms !== undefined && Number.isInteger(ms) ? ms : undefined;
}

/** Kubernetes CPU quantity (`500m`, `2`, `1.5`) in millicores; `undefined` when unparsable. */
export function parseCpu(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? Math.round(value * 1000) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)(m?)\s*$/.exec(value);
  if (!m) return undefined;
  const n = m[2] === 'm' ? Number(m[1]) : Number(m[1]) * 1000;
  return n > 0 ? Math.round(n) : undefined;
}
