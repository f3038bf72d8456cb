// `caracal-migrate repair --version N [--rename] [--reason TEXT]`: accept a reviewed edit (or rename) of an applied file.
import { repairMigrations } from '../../migrate/runner';
import { describeConnection } from '../../migrate/connection';
import { ExitCode } from '../../migrate/errors';
import { HISTORY_TABLE } from '../../migrate/history';
import { UsageError } from '../args';
import { Flags, runnerOptions, str } from '../flags';
import type { Output } from '../output';

export async function run(flags: Flags, out: Output): Promise<number> {
  const raw = (flags.version as string[] | undefined) ?? [];
  if (raw.length === 0) throw new UsageError('repair needs --version N (repeatable): the applied versions whose edit was reviewed');
  const versions = raw.map((v) => {
    if (!/^[0-9]{1,18}$/.test(v))
      throw new UsageError(`--version=${JSON.stringify(v)} is not valid: expected a migration version number such as 0003`);
    return BigInt(v);
  });
  const reason = str(flags, 'reason');
  if (reason !== undefined && (reason.trim() === '' || reason.length > 1000 || /[\u0000-\u001f\u007f]/.test(reason))) {
    throw new UsageError(
      `--reason=${JSON.stringify(reason.length > 80 ? `${reason.slice(0, 77)}...` : reason)} is not valid: expected one line of text ` +
        '(1 to 1000 characters, no control characters) saying why the edit is accepted',
    );
  }
  const options = runnerOptions(flags, out);
  // The directory compared is always named: without --dir it is ./migrations, which may not be the one meant.
  out.stdout(
    `migrations directory: ${options.dir}${str(flags, 'dir') === undefined ? ' (the default, ./migrations; --dir chooses another)' : ''}`,
  );
  const result = await repairMigrations({ ...options, versions, reason, rename: flags.rename === true });
  for (const c of result.compared) {
    const name = c.appliedAs === c.filename ? `file ${c.filename}` : `file ${c.filename}, applied as ${c.appliedAs}`;
    out.stdout(
      `comparing ${result.directory} with ${HISTORY_TABLE} of ${describeConnection(options.connection)}: version ${c.version}: ${name}; ` +
        `checksum ${c.fileChecksum.slice(0, 12)}… in the file, ${c.appliedChecksum?.slice(0, 12) ?? 'none'}${c.appliedChecksum ? '…' : ''} recorded`,
    );
  }
  for (const r of result.repaired)
    out.stdout(
      `repaired ${r.filename}: checksum ${r.checksum} recorded (was ${r.previousChecksum ?? 'none'})${r.renamedFrom ? `; name recorded (was ${r.renamedFrom})` : ''}`,
    );
  for (const v of result.unchanged) out.stdout(`version ${v}: checksum already matches the file, nothing to repair`);
  return ExitCode.OK;
}
