// DatabaseSecrets: a Secret per login, generated or existing; passwords and key material keep fixed addresses when moved.
import { Construct } from 'constructs';
import { DatabaseCredentials, DatabaseSecrets, DatabaseSecretsProps, KeyMaterialSecret, LOGINS } from '../../../constructs';
import { PostgresInstance } from '../../../constructs';
import { Json, resources, scope, synthScope } from '../../support/synth';

function build(props: Partial<DatabaseSecretsProps> = {}): { json: Json; secrets: DatabaseSecrets } {
  let secrets!: DatabaseSecrets;
  const { json } = synthScope((s) => {
    secrets = new DatabaseSecrets(s, 'secrets', { environment: 'prod', namespace: 'caracal', ...props });
  });
  return { json, secrets };
}

describe('DatabaseSecrets', () => {
  test('GIVEN generated credentials WHEN synthesized THEN each login gets one password and one Secret (username, password), named per environment', () => {
    const { json, secrets } = build();
    const passwords = resources(json, 'random_password');
    expect(Object.keys(passwords).sort()).toEqual(LOGINS.map((l) => `caracal_password_${l}`).sort());
    const api = resources(json, 'kubernetes_secret_v1').caracal_db_secret_api;
    expect(api.metadata).toMatchObject({ name: 'caracal-db-api', namespace: 'caracal' });
    expect(api.data).toEqual({ username: 'caracal_prod_api', password: '${random_password.caracal_password_api.result}' });
    expect(secrets.secretName('api')).toBe('caracal-db-api');
    expect(secrets.loginRole('owner')).toBe('caracal_prod_owner');
    expect(secrets.login('audit').groupRole).toBe('caracal_audit');
  });

  test('GIVEN existing Secrets WHEN synthesized THEN nothing is generated and the construct points at them', () => {
    const { json, secrets } = build({
      credentials: DatabaseCredentials.fromExistingSecret('vault-db', { secretNames: { owner: 'vault-db-migrator' }, passwordKey: 'pass' }),
    });
    expect(json.resource).toBeUndefined();
    expect(secrets.secretName('api')).toBe('vault-db-api');
    expect(secrets.secretName('owner')).toBe('vault-db-migrator');
    expect(secrets.login('sts').passwordKey).toBe('pass');
  });

  test("GIVEN a login's rotation token WHEN it changes THEN its secret version and its password keeper change", () => {
    const before = build();
    const after = build({ credentials: DatabaseCredentials.generated({ rotation: { api: '2027-01' } }) });
    expect(after.secrets.secretVersion('api')).not.toBe(before.secrets.secretVersion('api'));
    expect(after.secrets.secretVersion('sts')).toBe(before.secrets.secretVersion('sts'));
    expect(resources(after.json, 'random_password').caracal_password_api.keepers.rotation).toBe('2027-01');
  });

  test('GIVEN the stores moved under new parents WHEN synthesized THEN key material and data volume addresses are kept', () => {
    // GIVEN the stores built directly in the stack, and the same stores moved under two new parents
    const flat = synthScope((s) => {
      const secrets = new DatabaseSecrets(s, 'secrets', { environment: 'prod', namespace: 'caracal' });
      new KeyMaterialSecret(s, 'keys', { environment: 'prod', namespace: 'caracal' });
      new PostgresInstance(s, 'postgres', { environment: 'prod', namespace: 'caracal', owner: secrets.login('owner') });
    }).json;
    const moved = synthScope((s) => {
      const stores = new Construct(new Construct(s, 'CaracalStores'), 'prod');
      const secrets = new DatabaseSecrets(stores, 'database-secrets', { environment: 'prod', namespace: 'caracal' });
      new KeyMaterialSecret(new Construct(stores, 'secrets'), 'key-material', { environment: 'prod', namespace: 'caracal' });
      new PostgresInstance(stores, 'db', { environment: 'prod', namespace: 'caracal', owner: secrets.login('owner') });
    }).json;
    // THEN the protected resources and the passwords keep their Terraform addresses (no replacement)
    const addresses = (json: Json, type: string) => Object.keys(resources(json, type)).sort();
    for (const type of ['random_bytes', 'random_password', 'kubernetes_persistent_volume_claim_v1', 'kubernetes_secret_v1']) {
      expect(addresses(moved, type)).toEqual(addresses(flat, type));
    }
    expect(addresses(moved, 'random_bytes')).toEqual(['caracal_encryption_key', 'caracal_hmac_key']);
    expect(addresses(moved, 'kubernetes_persistent_volume_claim_v1')).toEqual(['caracal_postgres_data']);
  });

  test('GIVEN a bad name prefix and bad credentials WHEN the construct is created THEN both problems are reported together', () => {
    const attempt = () =>
      new DatabaseSecrets(scope(), 'secrets', {
        environment: 'prod',
        namespace: 'caracal',
        namePrefix: 'Caracal!',
        credentials: DatabaseCredentials.generated({ length: 8 }),
      });
    expect(attempt).toThrow(/2 problems\n {2}- namePrefix: [^\n]*\n {2}- credentials\.length: 8 /);
  });

  test.each<[string, Partial<DatabaseSecretsProps>]>([
    ['environment', { environment: 'Prod' }],
    ['environment', { environment: 'production-eu-west-1' }],
    ['namespace', { namespace: '' }],
    ['namePrefix', { namePrefix: 'Caracal!' }],
    ['credentials.length', { credentials: DatabaseCredentials.generated({ length: 8 }) }],
    ['credentials.rotation.api', { credentials: DatabaseCredentials.generated({ rotation: { api: 'not a token!' } }) }],
    ['credentials.rotation.billing', { credentials: DatabaseCredentials.generated({ rotation: { billing: '1' } as never }) }],
    ['credentials.secretName', { credentials: DatabaseCredentials.fromExistingSecret('Vault DB') }],
    ['credentials.passwordKey', { credentials: DatabaseCredentials.fromExistingSecret('vault-db', { passwordKey: 'pass word' }) }],
  ])('GIVEN a bad %s WHEN the construct is created THEN the error names it', (field, props) => {
    expect(() => new DatabaseSecrets(scope(), 'secrets', { environment: 'prod', namespace: 'caracal', ...props })).toThrow(
      new RegExp(`- ${field}: `),
    );
  });
});
