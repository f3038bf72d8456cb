// ValidationError: every problem found in a construct's props or an environment file, reported at once.
// Messages name the construct path, the field, the bad value and what would be accepted; never a secret.

export interface Problem {
  /** Dotted path of the field, e.g. `capacity.sharedBuffers` or `pools.api.poolMax`. */
  readonly field: string;
  /** What is wrong and what would be accepted, e.g. `12GB exceeds 40% of the memory limit (16Gi)`. */
  readonly message: string;
  /** Construct path or file of the field when it is not the error's own (a composite reporting its children). */
  readonly where?: string;
}

export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    /** Construct path (`CaracalStores/prod/postgres`) or file (`src/environments/prod.ts`). */
    readonly where: string,
    readonly problems: readonly Problem[],
  ) {
    super(
      `${where}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n` +
        problems.map((p) => `  - ${p.where ? `${p.where}: ` : ''}${p.field}: ${p.message}`).join('\n'),
    );
  }
}

/** Renders a value for an error message; `secret` values are never shown. */
export function describeValue(value: unknown, secret = false): string {
  if (secret) return '<redacted>';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  try {
    const json = JSON.stringify(value);
    return json.length > 120 ? `${json.slice(0, 117)}...` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Collects problems during validation; `throwIfAny` raises one ValidationError with all of them. */
export class Problems {
  private readonly list: Problem[] = [];
  constructor(private readonly where: string) {}

  /** Records `field: <value> <message>`; the value is redacted when `secret`. */
  add(field: string, value: unknown, message: string, secret = false): void {
    this.list.push({ field, message: `${describeValue(value, secret)} ${message}` });
  }

  /** Records a problem whose message needs no value (a missing field, a budget sum). */
  addMessage(field: string, message: string): void {
    this.list.push({ field, message });
  }

  /** Folds another construct's or sub-validator's problems in under a field prefix. */
  merge(prefix: string, problems: readonly Problem[]): void {
    for (const p of problems) this.list.push({ field: prefix ? `${prefix}.${p.field}` : p.field, message: p.message });
  }

  /** Folds in another construct's error, each problem keeping the path it belongs to. */
  mergeError(error: ValidationError): void {
    for (const p of error.problems) this.list.push({ ...p, where: p.where ?? error.where });
  }

  get count(): number {
    return this.list.length;
  }

  get all(): readonly Problem[] {
    return [...this.list];
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw new ValidationError(this.where, this.list);
  }
}
