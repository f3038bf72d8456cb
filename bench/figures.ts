// The figures every bench reports for the final table of `npm run bench`: this project's number, the peer's (another
// tool, or this project at another size) measured in the same run, their ratio, the goal and whether it is met.
// Each bench writes bench/out/<name>.figures.json; bench/run.mjs prints them together (and `--json`).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Figure {
  /** What is measured, e.g. "no-op run, 1,000 applied files". */
  readonly name: string;
  /** This project's value, in `unit`. */
  readonly project: number;
  /** The peer's value in the same run (a different tool, or this project at the reference size), when there is one. */
  readonly peer?: number;
  /** Who the peer is, e.g. "dbmate 2.36.0", "10 applied files". */
  readonly peerName?: string;
  readonly unit: string;
  /** project / peer. */
  readonly ratio?: number;
  /** The goal in words, e.g. "ratio <= 1.2". */
  readonly goal: string;
  readonly met: boolean;
}

export function figure(
  f: Omit<Figure, 'ratio' | 'met'> & { readonly met?: boolean; readonly maxRatio?: number; readonly maxValue?: number },
): Figure {
  const ratio = f.peer !== undefined && f.peer > 0 ? f.project / f.peer : undefined;
  const met =
    f.met ??
    ((f.maxRatio === undefined || (ratio !== undefined && ratio <= f.maxRatio)) && (f.maxValue === undefined || f.project <= f.maxValue));
  const { maxRatio: _r, maxValue: _v, ...rest } = f;
  void _r;
  void _v;
  return { ...rest, ...(ratio !== undefined ? { ratio } : {}), met };
}

export function writeFigures(bench: string, figures: readonly Figure[], context: Record<string, unknown> = {}): void {
  const dir = path.join(__dirname, 'out');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, `${bench}.figures.json`),
    `${JSON.stringify({ bench, at: new Date().toISOString(), context, figures }, null, 2)}\n`,
  );
}
