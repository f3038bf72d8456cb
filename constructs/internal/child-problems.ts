// How a composite reports every child's problems at once: each child is built in turn; one whose props are
// invalid throws its ValidationError, which is kept, and a stand-in built from valid defaults in a detached
// scratch stack takes its place so the children after it are still built and checked. The composite then
// throws one error (the child's own when only one failed), so nothing of a failed build is ever used.
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { Problems, ValidationError } from '../errors';

export class ChildProblems {
  private readonly failures: ValidationError[] = [];
  private scratchStack?: TerraformStack;

  constructor(private readonly where: string) {}

  /** The child, or undefined when its props are invalid (the error is kept). */
  build<T>(make: () => T): T | undefined {
    try {
      return make();
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      this.failures.push(error);
      return undefined;
    }
  }

  /** A stand-in for a failed child, made from valid defaults in the scratch stack (never part of the composite). */
  standIn<T>(make: (scratch: Construct) => T): T {
    return make((this.scratchStack ??= new TerraformStack(new App(), 'stand-in')));
  }

  /** Throws the one failure as it is, or one error listing the problems of every failed child (each once). */
  throwIfAny(): void {
    if (this.failures.length === 1) throw this.failures[0];
    if (this.failures.length === 0) return;
    const all = new Problems(this.where);
    const seen = new Set<string>();
    for (const failure of this.failures) {
      // A prop every child takes (environment, namespace) is reported by the first child only.
      const fresh = failure.problems.filter((p) => !seen.has(`${p.field}\0${p.message}`));
      for (const p of fresh) seen.add(`${p.field}\0${p.message}`);
      if (fresh.length > 0) all.mergeError(new ValidationError(failure.where, fresh));
    }
    all.throwIfAny();
  }
}
