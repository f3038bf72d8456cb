// `caracal-migrate restore` / `restore-check` flags: bad values are usage errors (exit 2) that name each flag at once,
// before anything connects.
import { runCliCaptured } from '../../../support/cli';

const cli = runCliCaptured;

describe('restore flags', () => {
  test.each([
    [['restore'], /--backup DIR is required[\s\S]*--target-database NAME is required/],
    [
      ['restore', '--backup', '/tmp', '--target-database', 'Caracal-Prod'],
      /--target-database "Caracal-Prod" is not valid: expected a lower-case SQL identifier/,
    ],
    [['restore-check', '--backup', '/tmp', '--jobs', '0'], /--jobs="0" is not valid: expected a whole number from 1 to 64/],
    [['restore-check', '--backup', '/tmp', '--pg-bin', '/nonexistent'], /--pg-bin "\/nonexistent" holds no pg_restore/],
    [['restore-check', '--backup', '/nonexistent-backup'], /--backup \/nonexistent-backup: no such directory/],
    [['restore', '--backup', '/tmp', '--target-database', 'x', '--keep'], /flag --keep does not apply to restore/],
  ])('GIVEN %j WHEN run THEN exit 2 names the flag', async (argv, message) => {
    const r = await cli(argv);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });
});
