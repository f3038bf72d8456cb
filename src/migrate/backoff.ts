// Growing pauses with "equal jitter": the first pause doubled each time up to a cap, half of it fixed and half random,
// so retrying clients (runners, init containers) and the traffic they wait on do not fall into step.

export function jitteredBackoff(attempt: number, firstMs: number, capMs: number, random: () => number = Math.random): number {
  const base = Math.min(firstMs * 2 ** attempt, capMs);
  return Math.round(base / 2 + random() * (base / 2));
}
