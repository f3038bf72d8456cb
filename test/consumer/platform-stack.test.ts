// The library as a platform engineer gets it (issue 12 points 1 and 2): `npm pack`, the tarball installed into a
// temporary copy of examples/platform-stack with the NEWEST cdktf, constructs and providers the peer ranges allow
// (one `npm install` from the registry; npm's cache keeps later runs fast), then the example type-checked under its
// strict tsconfig, synthesized with plain node, and its own Jest tests run. Needs the npm registry.
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE = path.join(ROOT, 'examples', 'platform-stack');
const LIBRARY = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const PEERS = ['cdktf', 'constructs', '@cdktf/provider-kubernetes', '@cdktf/provider-helm', '@cdktf/provider-random'] as const;
/** Install, type check, synth and the example's tests each get minutes on a loaded 2-core machine. */
const STEP_TIMEOUT_MS = 10 * 60_000;

/** Runs a command; fails the test with its output unless it exits 0. */
function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const r = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout: STEP_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false', ...env },
  });
  if (r.status !== 0) {
    const output = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim();
    if (command === 'npm' && /E(NOTFOUND|AI_AGAIN|CONNREFUSED|CONNRESET|TIMEDOUT)|network|getaddrinfo|socket hang up/i.test(output))
      throw new Error(
        `the npm registry is unreachable (npm ${args.join(' ')}): this test installs the packed library with the newest ` +
          `peers from the registry (${process.env.npm_config_registry ?? 'the configured registry'}); check the network or proxy.\n${output.slice(-2000)}`,
      );
    throw new Error(`${command} ${args.join(' ')} in ${cwd} exited ${r.status ?? r.signal ?? r.error?.message}:\n${output.slice(-6000)}`);
  }
  return r;
}

/** Newest of a list of x.y.z versions. */
function newest(versions: readonly string[]): string {
  const key = (v: string) => v.split('.').map((n) => Number.parseInt(n, 10));
  return [...versions].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  })[versions.length - 1];
}

/** Every file under `dir` with its size and mtime: what synth must leave exactly as it was. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out.push(`${path.relative(dir, p)} ${s.size} ${s.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

/** The built library is older than its sources: build it (what `npm pack`'s prepack does) before packing. */
function buildIfStale(): void {
  const built = ['dist/constructs/index.js', 'dist/constructs/index.d.ts', 'dist/caracal-migrate.cjs'].map((f) => path.join(ROOT, f));
  const oldestBuilt = Math.min(...built.map((f) => (existsSync(f) ? statSync(f).mtimeMs : 0)));
  const sources = ['constructs', 'common', 'src'].flatMap((d) => tree(path.join(ROOT, d)).map((line) => Number(line.split(' ').pop())));
  if (oldestBuilt < Math.max(...sources)) run('npm', ['run', '--silent', 'build'], ROOT);
}

describe('the packed library in a platform engineer project (examples/platform-stack)', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'caracal-consumer-'));
  const project = path.join(work, 'platform-stack');
  const installed = path.join(project, 'node_modules', '@caracal', 'stores');
  let pack: { filename: string; entryCount: number; size: number; unpackedSize: number; files: Array<{ path: string }> };
  const timings: Record<string, number> = {};
  const timed = <T>(step: string, fn: () => T): T => {
    const start = Date.now();
    try {
      return fn();
    } finally {
      timings[step] = Date.now() - start;
    }
  };

  beforeAll(() => {
    timed('build', buildIfStale);
    pack = timed('pack', () => JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT).stdout)[0]);
    cpSync(EXAMPLE, project, {
      recursive: true,
      filter: (src) => !['node_modules', 'build', 'cdktf.out'].includes(path.basename(src)) && !src.endsWith('.tgz'),
    });
    // The example as its author would install it: the tarball, and the peers at the library's own ranges (npm takes
    // the newest each allows); the example's tooling (TypeScript, Jest) at its pinned versions.
    const pkg = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8'));
    pkg.dependencies['@caracal/stores'] = `file:${path.join(work, pack.filename)}`;
    for (const peer of PEERS) pkg.dependencies[peer] = LIBRARY.peerDependencies[peer];
    writeFileSync(path.join(project, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    timed('install', () => run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock'], project));
  }, 4 * STEP_TIMEOUT_MS);

  afterAll(() => {
    console.log(`consumer test steps (ms): ${JSON.stringify(timings)}; tarball ${pack?.entryCount} files, ${pack?.size} bytes`);
    rmSync(work, { recursive: true, force: true });
  });

  test('GIVEN npm pack WHEN the tarball is listed THEN it holds the built library, the runner bundle, migrations and docs, and no tests, benches, fixtures, examples or sources', () => {
    const files = pack.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'bin/caracal-migrate.js',
        'dist/caracal-migrate.cjs',
        'dist/constructs/index.js',
        'dist/constructs/index.d.ts',
        'migrations/0001_baseline.up.sql',
      ]),
    );
    expect(
      files.filter(
        (f) =>
          /^(test|bench|examples|src|scripts|\.ci)\/|\.test\.|fixtures|__snapshots__|^constructs\/|\.ts$/.test(f) && !f.endsWith('.d.ts'),
      ),
    ).toEqual([]);
  });

  test(
    'GIVEN the install WHEN the peers are read THEN each is the newest its peer range allows, and there is one copy of constructs and cdktf',
    () => {
      for (const peer of PEERS) {
        const range = LIBRARY.peerDependencies[peer];
        const version = JSON.parse(readFileSync(path.join(project, 'node_modules', peer, 'package.json'), 'utf8')).version;
        const allowed = JSON.parse(run('npm', ['view', `${peer}@${range}`, 'version', '--json'], project).stdout) as string | string[];
        expect(`${peer}@${version}`).toBe(`${peer}@${newest(typeof allowed === 'string' ? [allowed] : allowed)}`);
      }
      for (const single of ['constructs', 'cdktf']) {
        const copies = run('find', ['.', '-path', `*/node_modules/${single}/package.json`], project)
          .stdout.trim()
          .split('\n');
        expect(copies).toEqual([`./node_modules/${single}/package.json`]);
      }
    },
    STEP_TIMEOUT_MS,
  );

  test('GIVEN the installed package WHEN plain node requires it THEN it loads (no tsx) and the runner bin answers', () => {
    expect(existsSync(path.join(project, 'node_modules', 'tsx'))).toBe(false);
    const loaded = run(
      'node',
      ['-e', "const s = require('@caracal/stores'); console.log(typeof s.CaracalStores, typeof s.ValidationError)"],
      project,
    );
    expect(loaded.stdout.trim()).toBe('function function');
    const help = run(path.join(project, 'node_modules', '.bin', 'caracal-migrate'), ['--help'], project);
    expect(help.stdout).toMatch(/caracal-migrate/);
    // A subpath outside `exports` is not reachable.
    const internal = spawnSync('node', ['-e', "require('@caracal/stores/dist/constructs/internal/rules')"], {
      cwd: project,
      encoding: 'utf8',
    });
    expect(internal.stderr).toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  test(
    'GIVEN the example under strict, exactOptionalPropertyTypes and skipLibCheck false WHEN type-checked THEN tsc reports nothing',
    () => {
      const tsconfig = JSON.parse(readFileSync(path.join(project, 'tsconfig.json'), 'utf8')).compilerOptions;
      expect(tsconfig).toMatchObject({ strict: true, exactOptionalPropertyTypes: true, skipLibCheck: false });
      timed('typecheck', () =>
        run('node', [path.join('node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'tsconfig.json'], project),
      );
    },
    STEP_TIMEOUT_MS,
  );

  test(
    'GIVEN the example WHEN synthesized with plain node THEN both stacks and the hook chart are in its cdktf.out, and nothing is written to node_modules or the temp directory',
    () => {
      const before = tree(installed);
      const probeTmp = path.join(work, 'tmp-probe');
      mkdirSync(probeTmp);
      timed('synth', () => run('npm', ['run', '--silent', 'synth'], project, { TMPDIR: probeTmp, TMP: probeTmp, TEMP: probeTmp }));
      const out = path.join(project, 'cdktf.out');
      expect(readdirSync(path.join(out, 'stacks')).sort()).toEqual(['qa', 'reporting']);
      expect(readdirSync(path.join(out, 'caracal-hook-charts')).some((d) => d.startsWith('caracal-qa-migrate'))).toBe(true);
      const qa = JSON.parse(readFileSync(path.join(out, 'stacks', 'qa', 'cdk.tf.json'), 'utf8'));
      expect(qa.resource.kubernetes_deployment_v1.api.spec.template.spec.init_container[0].name).toBe('caracal-wait-for-schema');
      expect(tree(installed)).toEqual(before);
      expect(readdirSync(probeTmp)).toEqual([]);
    },
    STEP_TIMEOUT_MS,
  );

  test(
    "GIVEN the example's own Jest tests (synthScope, fullSynth, toHaveResourceWithProperties, snapshots) WHEN run with --ci THEN they pass",
    () => {
      // CARACAL_UPDATE_EXAMPLE_SNAPSHOTS=1 rewrites the example's snapshots (after a deliberate change of the output)
      // and copies them back into examples/platform-stack; otherwise a missing or changed snapshot fails.
      const update = process.env.CARACAL_UPDATE_EXAMPLE_SNAPSHOTS === '1';
      const r = timed('example tests', () =>
        run('node', [path.join('node_modules', 'jest', 'bin', 'jest.js'), update ? '-u' : '--ci'], project),
      );
      if (update) cpSync(path.join(project, 'test', '__snapshots__'), path.join(EXAMPLE, 'test', '__snapshots__'), { recursive: true });
      expect(`${r.stdout}\n${r.stderr}`).toMatch(/Tests: +\d+ passed, \d+ total/);
    },
    STEP_TIMEOUT_MS,
  );
});
