// eslint.config.mjs's layer rules: common/ imports nothing, the runner cores never import the constructs, and the
// constructs never import src/, and the app imports the library only through constructs/index.ts. Runs the real
// ESLint on probe sources, as `npm run lint` does.
import { lintProbes } from '../../support/lint';

const COMMON = /common\/ imports nothing but its own files/;
const CONSTRUCTS = /a runner core never imports the constructs/;
const SRC = /the constructs never import src\//;
const SYNTH = /the constructs never run a process at synth/;
const LIBRARY = /the app uses the library through its public API only/;

const REFUSED: Array<[string, string, RegExp]> = [
  ['common/probe-node.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n", COMMON],
  ['common/probe-src.ts', "import { ConfigError } from '../src/migrate/errors';\nexport const e = ConfigError;\n", COMMON],
  ['common/probe-constructs.ts', "import type { Problems } from '../constructs/errors';\nexport type P = Problems;\n", COMMON],
  ['common/probe-require.ts', "export const n = require('./names');\n", COMMON],
  ['common/probe-dynamic.ts', "export const n = () => import('./names');\n", COMMON],
  [
    'src/migrate/probe-constructs.ts',
    "import { PostgresCapacity } from '../../constructs/postgres-capacity';\nexport const p = PostgresCapacity;\n",
    CONSTRUCTS,
  ],
  ['src/verify/probe-cdk.ts', "import { Construct } from 'constructs';\nexport const c = Construct;\n", CONSTRUCTS],
  ['src/provision/probe-require.ts', "export const n = require('../../constructs/internal/rules');\n", CONSTRUCTS],
  ['constructs/probe-src.ts', "import { discoverMigrations } from '../src/migrate/files';\nexport const d = discoverMigrations;\n", SRC],
  [
    'constructs/internal/probe-env.ts',
    "import type { EnvironmentSpec } from '../../src/environments/schema';\nexport type E = EnvironmentSpec;\n",
    SRC,
  ],
  ['constructs/probe-spawn.ts', "import { spawnSync } from 'node:child_process';\nexport const s = spawnSync;\n", SYNTH],
  ['constructs/internal/probe-require.ts', "export const c = require('child_process');\n", SYNTH],
  [
    'src/stacks/probe-internal.ts',
    "import { environmentName } from '../../constructs/internal/rules';\nexport const e = environmentName;\n",
    LIBRARY,
  ],
  [
    'src/stacks/probe-module.ts',
    "import { PostgresCapacity } from '../../constructs/postgres-capacity';\nexport const c = PostgresCapacity;\n",
    LIBRARY,
  ],
  ['src/environments/probe-require.ts', "export const v = require('../../constructs/errors');\n", LIBRARY],
  ['src/main-probe.ts', "import { ValidationError } from '../constructs/errors';\nexport const v = ValidationError;\n", LIBRARY],
  [
    'src/cli/commands/probe-internal.ts',
    "import { packageRoot } from '../../../constructs/internal/package-files';\nexport const p = packageRoot;\n",
    LIBRARY,
  ],
];

const ALLOWED: Array<[string, string]> = [
  ['common/probe-own.ts', "import { SERVICES } from './names';\nexport const s = SERVICES;\n"],
  ['src/migrate/probe-common.ts', "import { parseDuration } from '../../common/durations';\nexport const p = parseDuration;\n"],
  ['constructs/probe-common.ts', "import { SSL_MODES } from '../common/names';\nexport const m = SSL_MODES;\n"],
  ['src/stacks/probe-constructs.ts', "import { PostgresCapacity } from '../../constructs';\nexport const c = PostgresCapacity;\n"],
  ['src/stacks/probe-index.ts', "import { CaracalStores } from '../../constructs/index';\nexport const c = CaracalStores;\n"],
  ['src/stacks/probe-package.ts', "import { Construct } from 'constructs';\nexport const c = Construct;\n"],
];

describe('layer boundaries', () => {
  let messages: Record<string, string[]>;
  beforeAll(() => {
    messages = lintProbes([...REFUSED.map(([f, s]) => [f, s] as const), ...ALLOWED]);
  });

  test.each(REFUSED)('GIVEN %s importing across its layer WHEN linted THEN the layer rule fails it', (file, _source, message) => {
    expect(messages[file]).toEqual([expect.stringMatching(message)]);
  });

  test.each(ALLOWED.map(([file]) => file))('GIVEN %s importing a layer below it WHEN linted THEN it passes', (file) => {
    expect(messages[file]).toEqual([]);
  });
});
