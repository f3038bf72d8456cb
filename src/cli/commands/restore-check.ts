// `caracal-migrate restore-check`: the restore of ./restore.ts into a scratch database, dropped after the check.
import type { Flags } from '../flags';
import type { Output } from '../output';
import { run as restore } from './restore';

export function run(flags: Flags, out: Output): Promise<number> {
  return restore(flags, out, 'check');
}
