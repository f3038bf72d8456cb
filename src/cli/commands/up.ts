// `caracal-migrate up`: apply every pending migration.
import { migrateUp } from '../../migrate/runner';
import { ExitCode } from '../../migrate/errors';
import { runnerOptions } from '../options';
import type { Output } from '../output';

export async function run(flags: Record<string, string | string[] | true>, out: Output): Promise<number> {
  const options = runnerOptions(flags, out);
  const result = await migrateUp(options);
  for (const a of result.applied) out.stdout(`applied ${a.filename} (${a.executionMs} ms)`);
  const ahead = result.ahead.length > 0 ? `; database ahead by ${result.ahead.length} (${result.ahead.map((r) => r.version).join(', ')}): application rollback, fine` : '';
  out.stdout(result.applied.length > 0
    ? `done: ${result.applied.length} applied, ${result.alreadyApplied} already applied${ahead}`
    : `nothing to do: ${result.alreadyApplied} already applied${ahead}`);
  if (typeof flags.provision === 'string') {
    // Loaded only when asked: the Job runs `up --provision FILE` to create its environment's login roles.
    const { provisionStep } = require('../../provision/command') as typeof import('../../provision/command');
    await provisionStep(flags.provision, options.connection, out);
  }
  return ExitCode.OK;
}
