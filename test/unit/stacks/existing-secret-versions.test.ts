// Issue 18 (existing-Secret modes): prod's Secrets are written by a secret manager, so a rotation there changes no
// Terraform value. The version fields of the environment (keyMaterial.version, redis.passwords.rotation,
// credentials.rotation) are what the operator bumps: they feed the services' credential annotations in helmValues()
// and serviceWorkload(), which are hashes of versions, never of values.
import { App } from 'cdktf';
import {
  DatabaseSecrets,
  KeyMaterial,
  KeyMaterialSecret,
  PostgresInstance,
  SERVICES,
  ServiceName,
  ServicePools,
} from '../../../constructs';
import { synthScope } from '../../support/synth';
import { CaracalStoresStack } from '../../../src/stacks/caracal-stores-stack';
import { EnvironmentSpec, loadEnvironments } from '../../../src/environments';
import { checkEnvironment } from '../../../src/stacks/environment-check';
import { Testing } from 'cdktf';

const prod = loadEnvironments().find((e) => e.name === 'prod')!;
const DB = 'caracal.dev/database-credentials';
const REDIS = 'caracal.dev/redis-credentials';

function annotations(env: EnvironmentSpec): {
  text: string;
  helm: Record<ServiceName, Record<string, string>>;
  workload: Record<ServiceName, Record<string, string>>;
} {
  const app: App = Testing.app();
  const stack = new CaracalStoresStack(app, env.name, env);
  const text = Testing.synth(stack);
  const values = stack.stores.helmValues();
  const helm = Object.fromEntries(SERVICES.map((s) => [s, values[s].podAnnotations])) as Record<ServiceName, Record<string, string>>;
  const workload = Object.fromEntries(SERVICES.map((s) => [s, stack.stores.serviceWorkload(s).annotations])) as Record<
    ServiceName,
    Record<string, string>
  >;
  return { text, helm, workload };
}

const base = annotations(prod);

describe('version fields of existing Secrets (prod)', () => {
  test("GIVEN keys from an existing Secret mounted by api WHEN its version is bumped THEN api's database-credentials annotation changes (helmValues() and serviceWorkload()), the other services' stay", () => {
    const pools = (version?: string) => {
      let p!: ServicePools;
      synthScope((s) => {
        const secrets = new DatabaseSecrets(s, 'secrets', { environment: 'prod', namespace: 'caracal' });
        const keyMaterial = new KeyMaterialSecret(s, 'keys', {
          environment: 'prod',
          namespace: 'caracal',
          keyMaterial: KeyMaterial.fromExistingSecret('caracal-prod-keys', version === undefined ? {} : { version }),
        });
        const db = PostgresInstance.external(s, 'postgres', {
          host: 'db.example.com',
          sslMode: 'verify-full',
          caCertSecret: { secretName: 'db-ca' },
        });
        p = new ServicePools(s, 'pools', {
          environment: 'prod',
          namespace: 'caracal',
          endpoint: db.endpoint,
          maxConnections: 300,
          secrets,
          keyMaterial,
          keyMaterialServices: ['api'],
        });
      });
      return p;
    };
    const [before, after] = [pools(), pools('vault-v7')];
    const db = (p: ServicePools, s: ServiceName) => p.helmValues()[s]!.podAnnotations[DB];
    expect(db(after, 'api')).not.toBe(db(before, 'api'));
    expect(after.serviceWorkload('api').annotations[DB]).toBe(db(after, 'api'));
    for (const s of SERVICES.filter((x) => x !== 'api')) expect(db(after, s)).toBe(db(before, s));
    expect(db(after, 'api')).toMatch(/^[0-9a-f]{64}$/);
  });

  test("GIVEN prod WHEN the api Redis user's version is bumped THEN only api's redis-credentials annotation changes", () => {
    const passwords = {
      ...(prod.redis.passwords as object),
      rotation: { api: '2027-02-01T00:00:00Z' },
    } as EnvironmentSpec['redis']['passwords'];
    const bumped = annotations({ ...prod, redis: { ...prod.redis, passwords } });
    expect(SERVICES.filter((s) => bumped.helm[s][REDIS] !== base.helm[s][REDIS])).toEqual(['api']);
    expect(bumped.workload.api).toEqual(bumped.helm.api);
    for (const s of SERVICES) expect(bumped.helm[s][DB]).toBe(base.helm[s][DB]);
  });

  test("GIVEN prod WHEN the sts login's version is bumped THEN only sts's database-credentials annotation changes", () => {
    const bumped = annotations({ ...prod, credentials: { kind: 'existing', secretPrefix: 'caracal-prod-db', rotation: { sts: 'v2' } } });
    expect(SERVICES.filter((s) => bumped.helm[s][DB] !== base.helm[s][DB])).toEqual(['sts']);
  });

  test('GIVEN version tokens WHEN synthesized THEN the annotations are SHA-256 hashes: no token and no value appears in them, and the synth holds no generated secret', () => {
    const passwords = { ...(prod.redis.passwords as object), rotation: { api: 'redis-token-7' } } as EnvironmentSpec['redis']['passwords'];
    const bumped = annotations({
      ...prod,
      keyMaterial: { kind: 'existing', secretName: 'caracal-prod-keys', version: 'keys-token-7' },
      redis: { ...prod.redis, passwords },
    });
    for (const s of SERVICES) {
      expect(bumped.helm[s][DB]).toMatch(/^[0-9a-f]{64}$/);
      expect(bumped.helm[s][REDIS]).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(JSON.stringify(bumped.helm)).not.toMatch(/token-7/);
    expect(bumped.text).not.toMatch(/random_password|random_bytes/);
  });

  test.each<[string, (e: Record<string, any>) => void, RegExp]>([
    [
      'keyMaterial.version',
      (e) => (e.keyMaterial = { kind: 'existing', secretName: 'caracal-prod-keys', version: 7 }),
      /keyMaterial\.version/,
    ],
    [
      'redis.passwords.rotation.root',
      (e) => (e.redis = { ...e.redis, passwords: { ...e.redis.passwords, rotation: { root: '1' } } }),
      /redis\.passwords\.rotation\.root/,
    ],
    [
      'redis.passwords.rotation.api',
      (e) => (e.redis = { ...e.redis, passwords: { ...e.redis.passwords, rotation: { api: 3 } } }),
      /redis\.passwords\.rotation\.api/,
    ],
  ])('GIVEN a bad %s WHEN prod is checked THEN the error names the field', (_field, change, message) => {
    const env = JSON.parse(JSON.stringify(prod));
    change(env);
    expect(() => checkEnvironment(env, 'src/environments/prod.ts')).toThrow(message);
  });

  test.each<[string, EnvironmentSpec, RegExp]>([
    [
      'keyMaterial.version',
      { ...prod, keyMaterial: { kind: 'existing', secretName: 'caracal-prod-keys', version: 'not a token!' } },
      /keyMaterial\.version: "not a token!" is not a rotation token: expected 1-64 letters/,
    ],
    [
      'redis.passwords.rotation.api',
      {
        ...prod,
        redis: { ...prod.redis, passwords: { kind: 'existing', secretPrefix: 'caracal-prod-redis', rotation: { api: 'two words' } } },
      },
      /passwords\.rotation\.api: "two words" is not a rotation token/,
    ],
  ])(
    'GIVEN a %s that is not a token WHEN the stack is built THEN the construct names the field, the value and what is accepted',
    (_field, env, message) => {
      expect(() => annotations(env)).toThrow(message);
    },
  );
});
