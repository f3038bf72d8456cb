// `caracal-migrate repair --version N [--reason TEXT]`: accept a reviewed edit of an applied file.
import { repairMigrations } from '../../migrate/runner';
import { ExitCode } from '../../migrate/errors';
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
  const result = await repairMigrations({ ...runnerOptions(flags, out), versions, reason });
  for (const r of result.repaired)
    out.stdout(`repaired ${r.filename}: checksum ${r.checksum} recorded (was ${r.previousChecksum ?? 'none'})`);
  for (const v of result.unchanged) out.stdout(`version ${v}: checksum already matches the file, nothing to repair`);
  return ExitCode.OK;
}
