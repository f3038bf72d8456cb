// `caracal-migrate up`: apply every pending migration.
import { migrateUp, type MigrateResult } from '../../migrate/runner';
import { ExitCode } from '../../migrate/errors';
import { Flags, runnerOptions } from '../flags';
import type { Output } from '../output';

export async function run(flags: Flags, out: Output): Promise<number> {
  const options = runnerOptions(flags, out);
  // Loaded only when asked: the Job runs `up --provision FILE` to create its environment's login roles.
  const provision = typeof flags.provision === 'string' ? (require('./provision') as typeof import('./provision')) : undefined;
  // A bad provisioning config or a missing login Secret must fail before the schema changes, not after; what it
  // read (provision.json and the password files) is what provisioning uses.
  const checked = provision?.checkProvisionConfig(flags.provision as string, out);
  const report = (result: MigrateResult) => {
    for (const a of result.applied) out.stdout(`applied ${a.filename} (${a.executionMs} ms)`);
    const ahead =
      result.ahead.length > 0
        ? `; database ahead by ${result.ahead.length} (${result.ahead.map((r) => r.version).join(', ')}): application rollback, fine`
        : '';
    out.stdout(
      result.applied.length > 0
        ? `done: ${result.applied.length} applied, ${result.alreadyApplied} already applied${ahead}`
        : `nothing to do: ${result.alreadyApplied} already applied${ahead}`,
    );
  };
  if (!provision || !checked) report(await migrateUp(options));
  else
    await migrateUp(options, async (result, session) => {
      report(result);
      await provision.provisionStep(checked, options.connection, out, session);
    });
  return ExitCode.OK;
}
