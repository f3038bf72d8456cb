// Identity within one stack (issue 12 point 8): two environments in one stack keep every resource of both; the
// same environment twice, two constructs on one fixed logical id, and two objects of one kind, namespace and name
// are errors naming both construct paths.
import { TerraformStack, Testing } from 'cdktf';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { DataKubernetesSecretV1 } from '@cdktf/provider-kubernetes/lib/data-kubernetes-secret-v1';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import {
  CaracalStores,
  CaracalStoresProps,
  DatabaseSecrets,
  KeyMaterialSecret,
  ServicePools,
  StoresPostgres,
  ValidationError,
} from '../../../../constructs';
import { Json, resources, validationErrorOf } from '../../../support/synth';

function stack(): TerraformStack {
  return new TerraformStack(Testing.app(), 'platform');
}

function stores(s: TerraformStack, id: string, props: Partial<CaracalStoresProps> & { environment: string }): CaracalStores {
  return new CaracalStores(s, id, { namespace: `caracal-${props.environment}`, postgres: StoresPostgres.inCluster(), ...props });
}

const lines = (e: ValidationError) => e.problems.map((p) => `${p.field}: ${p.message}`);

describe('identity of two environments in one stack', () => {
  test('GIVEN stores for qa and uat in their own namespaces, uat with its own logicalIdPrefix WHEN synthesized THEN both keep every volume, Secret and password', () => {
    const s = stack();
    stores(s, 'qa', { environment: 'qa' });
    stores(s, 'uat', { environment: 'uat', logicalIdPrefix: 'caracal_uat' });
    const json: Json = JSON.parse(Testing.synth(s));
    const pvcs = Object.values(resources(json, 'kubernetes_persistent_volume_claim_v1')).map((p: Json) => p.metadata.namespace);
    expect(Object.keys(resources(json, 'kubernetes_persistent_volume_claim_v1')).sort()).toEqual(
      [
        'caracal_postgres_data',
        'caracal_redis_data',
        'caracal_postgres_backup_volume',
        ...['sts_0', 'sts_1', 'gateway_0', 'gateway_1'].map((c) => `caracal_replay_${c}`),
        'caracal_uat_postgres_data',
        'caracal_uat_redis_data',
        'caracal_uat_postgres_backup_volume',
        ...['sts_0', 'sts_1', 'gateway_0', 'gateway_1'].map((c) => `caracal_uat_replay_${c}`),
      ].sort(),
    );
    expect(pvcs.filter((n) => n === 'caracal-qa')).toHaveLength(7);
    const passwords = Object.values(resources(json, 'random_password')).map((p: Json) => p.keepers.username ?? p.keepers.user);
    for (const env of ['qa', 'uat'])
      for (const login of ['owner', 'api', 'coordinator', 'audit', 'sts', 'gateway', 'maintenance', 'monitoring', 'backup'])
        expect(passwords).toContain(`caracal_${env}_${login}`);
    // Redis users' passwords: one per user and environment (keepers name the user only).
    expect(Object.keys(resources(json, 'random_password')).filter((id) => id.includes('redis_password_api'))).toEqual([
      'caracal_redis_password_api',
      'caracal_uat_redis_password_api',
    ]);
    const secrets = Object.values(resources(json, 'kubernetes_secret_v1')).map((x: Json) => `${x.metadata.namespace}/${x.metadata.name}`);
    for (const ns of ['caracal-qa', 'caracal-uat']) {
      expect(secrets).toContain(`${ns}/caracal-db-api`);
      expect(secrets).toContain(`${ns}/caracal-keys`);
      expect(secrets).toContain(`${ns}/caracal-redis-acl`);
    }
    expect(Object.keys(resources(json, 'random_bytes')).sort()).toEqual(
      ['caracal_encryption_key', 'caracal_hmac_key', 'caracal_uat_encryption_key', 'caracal_uat_hmac_key'].sort(),
    );
  });

  test('GIVEN the same environment twice in one stack WHEN the second is built THEN the error names both construct paths', () => {
    const s = stack();
    stores(s, 'first', { environment: 'qa' });
    const e = validationErrorOf(() => stores(s, 'second', { environment: 'qa', namespace: 'other', logicalIdPrefix: 'other' }));
    expect(e.where).toBe('platform/second');
    expect(lines(e)).toEqual([expect.stringMatching(/^environment: "qa" is already the environment of platform\/first in this stack/)]);
    expect(e.message).toContain('platform/second and platform/first');
  });

  test('GIVEN qa and uat with the same logicalIdPrefix WHEN synthesized THEN the error names each shared logical id and both construct paths', () => {
    const s = stack();
    stores(s, 'qa', { environment: 'qa' });
    stores(s, 'uat', { environment: 'uat' });
    const e = validationErrorOf(() => Testing.synth(s));
    expect(e.where).toBe('platform');
    expect(lines(e)).toContain(
      'logical id random_password.caracal_password_api: is claimed by both platform/qa/secrets/password-api and platform/uat/secrets/password-api: ' +
        'one would silently replace the other; give one of them another logicalIdPrefix (e.g. `caracal_<environment>`): the fixed ids are `<logicalIdPrefix>_…`',
    );
    const fields = e.problems.map((p) => p.field);
    for (const id of [
      'kubernetes_persistent_volume_claim_v1.caracal_postgres_data',
      'kubernetes_persistent_volume_claim_v1.caracal_redis_data',
      'random_bytes.caracal_hmac_key',
      'kubernetes_secret_v1.caracal_db_secret_owner',
    ])
      expect(fields).toContain(`logical id ${id}`);
  });

  test('GIVEN qa and uat in one namespace with their own logicalIdPrefix WHEN synthesized THEN the error names each shared Kubernetes object and both paths', () => {
    const s = stack();
    stores(s, 'qa', { environment: 'qa', namespace: 'caracal' });
    stores(s, 'uat', { environment: 'uat', namespace: 'caracal', logicalIdPrefix: 'uat' });
    const e = validationErrorOf(() => Testing.synth(s));
    expect(lines(e)).toContain(
      'kubernetes_secret_v1 caracal/caracal-db-api: is claimed by both platform/qa/secrets/secret-api and platform/uat/secrets/secret-api: ' +
        'one would silently replace the other; give one of them another namespace, name or namePrefix',
    );
    const fields = e.problems.map((p) => p.field);
    expect(fields).toContain('kubernetes_stateful_set_v1 caracal/postgres');
    expect(fields).toContain('kubernetes_config_map_v1 caracal/caracal-api-db');
    expect(fields.filter((f) => f.startsWith('logical id'))).toEqual([]);
  });
});

describe('identity of lower-level constructs in one stack', () => {
  test('GIVEN two DatabaseSecrets with the default logicalIdPrefix WHEN synthesized THEN the error names both paths for each login', () => {
    const s = stack();
    new DatabaseSecrets(s, 'a', { environment: 'qa', namespace: 'one' });
    new DatabaseSecrets(s, 'b', { environment: 'uat', namespace: 'two' });
    const e = validationErrorOf(() => Testing.synth(s));
    expect(e.problems).toHaveLength(18);
    expect(lines(e)[0]).toMatch(
      /^logical id random_password\.caracal_password_owner: is claimed by both platform\/a\/password-owner and platform\/b\/password-owner/,
    );
  });

  test('GIVEN two KeyMaterialSecrets with their own prefixes in one namespace WHEN synthesized THEN the Secret name collision names both paths', () => {
    const s = stack();
    new KeyMaterialSecret(s, 'a', { environment: 'qa', namespace: 'one' });
    new KeyMaterialSecret(s, 'b', { environment: 'qa', namespace: 'one', logicalIdPrefix: 'other' });
    expect(lines(validationErrorOf(() => Testing.synth(s)))).toEqual([
      'kubernetes_secret_v1 one/caracal-keys: is claimed by both platform/a/key-material and platform/b/key-material: one would silently replace the other; give one of them another namespace, name or namePrefix',
    ]);
  });

  test("GIVEN two ServicePools in one namespace WHEN synthesized THEN each shared ConfigMap is an error, and the user's own ConfigMap of the same name too", () => {
    const s = stack();
    const secrets = new DatabaseSecrets(s, 'secrets', { environment: 'qa', namespace: 'qa', services: ['api'] });
    const endpoint = { host: 'db', port: 5432, database: 'caracal', sslMode: 'require' as const };
    new ServicePools(s, 'pools', { environment: 'qa', namespace: 'qa', endpoint, maxConnections: 100, secrets });
    new ServicePools(s, 'pools2', { environment: 'qa', namespace: 'qa', endpoint, maxConnections: 100, secrets });
    new ConfigMapV1(s, 'mine', { metadata: { name: 'caracal-api-db', namespace: 'qa' } });
    expect(validationErrorOf(() => Testing.synth(s)).problems.map((p) => p.message.split(':')[0])).toEqual([
      'is claimed by both platform/pools/config-api and platform/pools2/config-api',
      'is claimed by both platform/pools/config-api and platform/mine',
    ]);
  });

  test("GIVEN the user's ConfigMaps renamed by escape-hatch overrides, one onto a pool's name and one away from it WHEN synthesized THEN only the first is a collision", () => {
    const s = stack();
    const secrets = new DatabaseSecrets(s, 'secrets', { environment: 'qa', namespace: 'qa', services: ['api'] });
    const endpoint = { host: 'db', port: 5432, database: 'caracal', sslMode: 'require' as const };
    new ServicePools(s, 'pools', { environment: 'qa', namespace: 'qa', endpoint, maxConnections: 100, secrets });
    new ConfigMapV1(s, 'onto', { metadata: { name: 'mine', namespace: 'qa' } }).addOverride('metadata.name', 'caracal-api-db');
    new ConfigMapV1(s, 'away', { metadata: { name: 'caracal-api-db', namespace: 'qa' } }).addOverride('metadata.name', 'other');
    expect(validationErrorOf(() => Testing.synth(s)).problems.map((p) => p.message.split(':')[0])).toEqual([
      'is claimed by both platform/pools/config-api and platform/onto',
    ]);
  });

  test('GIVEN a data source reading a Secret the stack creates WHEN synthesized THEN it is no collision', () => {
    const s = stack();
    new DatabaseSecrets(s, 'secrets', { environment: 'qa', namespace: 'qa' });
    new DataKubernetesSecretV1(s, 'read', { metadata: { name: 'caracal-db-api', namespace: 'qa' } });
    expect(() => Testing.synth(s)).not.toThrow();
  });
});

describe('identity of manifests', () => {
  test('GIVEN two kubernetes_manifest objects of one kind, namespace and name WHEN synthesized THEN the error names both, and another kind of that name is no collision', () => {
    const s = stack();
    new DatabaseSecrets(s, 'secrets', { environment: 'qa', namespace: 'qa' });
    const cluster = (name: string, kind = 'Cluster') => ({
      manifest: { apiVersion: 'postgresql.cnpg.io/v1', kind, metadata: { name, namespace: 'qa' } },
    });
    new Manifest(s, 'one', cluster('pg'));
    new Manifest(s, 'two', cluster('pg'));
    new Manifest(s, 'three', cluster('pg', 'ScheduledBackup'));
    expect(lines(validationErrorOf(() => Testing.synth(s)))).toEqual([
      'kubernetes_manifest Cluster qa/pg: is claimed by both platform/one and platform/two: one would silently replace the other; give one of them another namespace, name or namePrefix',
    ]);
  });
});
