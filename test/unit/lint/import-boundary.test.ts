// eslint.config.mjs's import boundary: code outside src/cli (the cores, the app, the constructs) never imports the
// CLI, while the CLI's adapters import the cores. Runs the real ESLint on probe sources, as `npm run lint` does.
import { lintProbes } from '../../support/lint';

const PROBES: Array<[string, string]> = [
  ['src/migrate/probe.ts', "import { FLAGS } from '../cli/flags';\nexport const f = FLAGS;\n"],
  ['src/validate/probe.ts', "import type { Output } from '../cli/output';\nexport type O = Output;\n"],
  ['src/verify/probe.ts', "export const m = require('../cli/main');\n"],
  ['src/provision/probe.ts', "export { COMMANDS } from '../cli/commands';\n"],
  ['src/newcore/probe.ts', "import { runCli } from '../cli/main';\nexport const r = runCli;\n"],
  ['constructs/probe.ts', "import { usage } from '../src/cli/main';\nexport const u = usage;\n"],
  ['src/cli/commands/probe.ts', "import { migrateUp } from '../../migrate/runner';\nexport const m = migrateUp;\n"],
];

describe('import boundary', () => {
  let messages: Record<string, string[]>;
  beforeAll(() => {
    messages = lintProbes(PROBES);
  });

  test.each(PROBES.slice(0, -1).map(([file]) => file))('GIVEN %s importing src/cli WHEN linted THEN the boundary rule fails it', (file) => {
    expect(messages[file]).toEqual([expect.stringMatching(/a core never imports src\/cli/)]);
  });

  test('GIVEN a command adapter importing a core WHEN linted THEN it passes', () => {
    expect(messages['src/cli/commands/probe.ts']).toEqual([]);
  });
});
