// One snapshot per environment of the synthesized Terraform JSON; two synths are byte-identical;
// no synthesized file holds a secret value.
import { buildApp } from '../../src/stacks/app';
import { Json, readTree, tempOutdir } from '../support/synth';
import { rmSync } from 'node:fs';

function synthAll(): { dir: string; files: Map<string, string> } {
  const dir = tempOutdir();
  buildApp({ outdir: dir }).synth();
  return { dir, files: readTree(dir) };
}

// Values a careless implementation could copy from the environment into the output.
const SUPPLIED_SECRETS = {
  PGPASSWORD: 'pgpass-7d0c1f3b9e2a',
  POSTGRES_PASSWORD: 'pgsuper-5b8e2d4a6c1f',
  CARACAL_HMAC_KEY: 'aG1hYy1rZXktOWYzYzFhN2UyYjRk',
  CARACAL_ENCRYPTION_KEY: 'ZW5jLWtleS0zYzdkOWUxZjJhNGI=',
  TF_VAR_db_password: 'tfvar-pass-1e4f7a9c3b5d',
};

/**
 * The migration Job's chart carries the runner bundle (`npm run build`) and the migration files, so its
 * content hash, asset directory and release size change with every runner or migration change; the
 * MigrationJob tests cover those values. The snapshot pins everything else.
 */
function withoutChartDigests(json: Json): Json {
  const copy = JSON.parse(JSON.stringify(json)) as Json;
  for (const release of Object.values((copy.resource?.helm_release ?? {}) as Record<string, Json>)) {
    if (typeof release.chart === 'string' && release.chart.startsWith('assets/'))
      release.chart = release.chart.replace(/\/[0-9A-F]+$/, '/<chart digest>');
    for (const v of release.set ?? []) if (v.name === 'contentHash') v.value = '<content hash>';
  }
  const job = copy.output?.migration_job?.value;
  if (job) Object.assign(job, { content_hash: '<content hash>', release_size_bytes: '<release size>' });
  return copy;
}

describe('synthesized output', () => {
  let first: { dir: string; files: Map<string, string> };
  let second: { dir: string; files: Map<string, string> };
  const saved: Record<string, string | undefined> = {};

  beforeAll(() => {
    for (const [k, v] of Object.entries(SUPPLIED_SECRETS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    first = synthAll();
    second = synthAll();
  });

  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(first.dir, { recursive: true, force: true });
    rmSync(second.dir, { recursive: true, force: true });
  });

  test.each(['dev', 'staging', 'prod', 'ha'])(
    'GIVEN the %s environment WHEN the app is synthesized THEN its stack matches the snapshot',
    (env) => {
      const text = first.files.get(`stacks/${env}/cdk.tf.json`);
      expect(text).toBeDefined();
      expect(withoutChartDigests(JSON.parse(text!))).toMatchSnapshot();
    },
  );

  test('GIVEN the same input WHEN the app is synthesized twice THEN every file is byte-identical', () => {
    expect([...second.files.keys()]).toEqual([...first.files.keys()]);
    for (const [file, content] of first.files) expect({ file, same: second.files.get(file) === content }).toEqual({ file, same: true });
  });

  test('GIVEN secret values in the environment at synth time WHEN the app is synthesized THEN no output file contains any of them', () => {
    for (const [file, content] of first.files) {
      for (const [name, value] of Object.entries(SUPPLIED_SECRETS))
        expect({ file, name, found: content.includes(value) }).toEqual({ file, name, found: false });
    }
  });

  test('GIVEN every environment WHEN the app is synthesized THEN passwords and keys are Terraform references only, never literals', () => {
    for (const env of ['dev', 'staging', 'prod', 'ha']) {
      const json: Json = JSON.parse(first.files.get(`stacks/${env}/cdk.tf.json`)!);
      for (const secret of Object.values<Json>(json.resource?.kubernetes_secret_v1 ?? {})) {
        for (const [key, value] of Object.entries<string>(secret.data ?? {})) {
          // Database logins are caracal_<env>_<login>; Redis ACL users are named after the service (or healthcheck, ops, exporter, backup, reloader).
          if (key === 'username')
            expect(value).toMatch(
              /^(caracal_[a-z0-9]+_[a-z]+|api|coordinator|audit|sts|gateway|healthcheck|ops|exporter|backup|reloader)$/,
            );
          else if (key === 'users.acl') {
            // The Redis ACL file: every password is Terraform's sha256 of a generated password, none is a literal.
            const hashes = value.match(/(^|\s)#\S*/g) ?? [];
            expect(hashes.length).toBeGreaterThan(0);
            for (const h of hashes) expect(h.trim()).toMatch(/^#\$\{sha256\(random_password\.[a-z_]+\.result\)\}$/);
            expect(value).not.toMatch(/(^|\s)>/);
          } else if (key.endsWith('-active-key-id'))
            // The key rings' active key ids: what rows store in hmac_key_id / encryption_key_id, not key material.
            expect(value).toMatch(/^(hmac|encryption)-[A-Za-z0-9._-]+$/);
          else expect(value).toMatch(/^\$\{random_(password|bytes)\.[a-z_]+\.(result|base64)\}$/);
        }
      }
      // No container carries a secret as an env literal, and no mount uses subPath (rotation must reach pods).
      const podSpecs = [
        ...Object.values<Json>(json.resource?.kubernetes_stateful_set_v1 ?? {}).map((sts) => sts.spec.template.spec),
        ...Object.values<Json>(json.resource?.kubernetes_cron_job_v1 ?? {}).map((cron) => cron.spec.job_template.spec.template.spec),
      ];
      expect(podSpecs.length).toBeGreaterThanOrEqual(2);
      for (const spec of podSpecs) {
        for (const c of spec.container) {
          for (const e of c.env ?? [])
            expect({ name: e.name, literalSecret: /PASSWORD$|_KEY$|TOKEN$/.test(e.name) && e.value !== undefined }).toEqual({
              name: e.name,
              literalSecret: false,
            });
          for (const m of c.volume_mount ?? []) expect(m.sub_path).toBeUndefined();
        }
      }
    }
  });
});
