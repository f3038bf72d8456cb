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

describe('DatabaseSecrets alternating logins', () => {
  const alternating = (rotation: Record<string, unknown>, retireGrace?: string) =>
    build({ credentials: DatabaseCredentials.generated({ rotation: rotation as never, ...(retireGrace ? { retireGrace } : {}) }) });

  test('GIVEN slot b gets a token WHEN synthesized THEN api gets a second password and a Job-only slots Secret, and its clients keep slot a', () => {
    const before = build();
    const { json, secrets } = alternating({ api: { a: '0', b: '1' } });
    const passwords = resources(json, 'random_password');
    expect(passwords.caracal_password_api.keepers).toEqual(resources(before.json, 'random_password').caracal_password_api.keepers);
    expect(passwords.caracal_password_api_b.keepers).toEqual({ rotation: '1', username: 'caracal_prod_api_b' });
    const all = resources(json, 'kubernetes_secret_v1');
    expect(all.caracal_db_secret_api.data).toEqual(resources(before.json, 'kubernetes_secret_v1').caracal_db_secret_api.data);
    expect(all.caracal_db_slots_secret_api.metadata).toMatchObject({ name: 'caracal-db-api-slots', namespace: 'caracal' });
    expect(all.caracal_db_slots_secret_api.data).toEqual({
      'password-a': '${random_password.caracal_password_api.result}',
      'password-b': '${random_password.caracal_password_api_b.result}',
    });
    expect(secrets.secretVersion('api')).toBe(before.secrets.secretVersion('api'));
    expect(secrets.loginSlots('api').map((s) => [s.username, s.secretName, s.passwordKey, s.retireAfterSeconds])).toEqual([
      ['caracal_prod_api', 'caracal-db-api-slots', 'password-a', undefined],
      ['caracal_prod_api_b', 'caracal-db-api-slots', 'password-b', undefined],
    ]);
    expect(secrets.loginSlots('sts')).toEqual(before.secrets.loginSlots('sts'));
  });

  test("GIVEN slot b made active WHEN synthesized THEN the clients' Secret holds slot b's login and the version changes, with no password value in it", () => {
    const staged = alternating({ api: { a: '0', b: '1' } });
    const { json, secrets } = alternating({ api: { a: '0', b: '1', active: 'b' } });
    expect(resources(json, 'kubernetes_secret_v1').caracal_db_secret_api.data).toEqual({
      username: 'caracal_prod_api_b',
      password: '${random_password.caracal_password_api_b.result}',
    });
    expect(secrets.loginRole('api')).toBe('caracal_prod_api_b');
    expect(secrets.secretVersion('api')).toBe('generated:32:b:1');
    expect(secrets.secretVersion('api')).not.toBe(staged.secrets.secretVersion('api'));
    expect(secrets.loginSlots('api').map((s) => s.version)).toEqual(staged.secrets.loginSlots('api').map((s) => s.version));
  });

  test('GIVEN the inactive slot retired WHEN synthesized THEN only that slot carries the grace in seconds, and its version changes', () => {
    const { secrets } = alternating({ api: { a: '0', b: '1', active: 'b', retireInactive: true } }, '90s');
    const [a, b] = secrets.loginSlots('api');
    expect(a.retireAfterSeconds).toBe(90);
    expect(a.version).toBe('generated:32:0:retire:90');
    expect(b.retireAfterSeconds).toBeUndefined();
    expect(
      alternating({ api: { a: '0', b: '1', active: 'b', retireInactive: true } }).secrets.loginSlots('api')[0].retireAfterSeconds,
    ).toBe(3600);
  });

  test.each<[string, Record<string, unknown>, string | undefined, RegExp]>([
    [
      'an alternating owner',
      { owner: { a: '0', b: '1' } },
      undefined,
      /credentials\.rotation\.owner: .*one login: expected a rotation token/,
    ],
    [
      'active b without a token',
      { api: { active: 'b' } },
      undefined,
      /credentials\.rotation\.api\.active: "b" names slot b, which has no token/,
    ],
    [
      'an unknown slot',
      { api: { a: '0', c: '1' } },
      undefined,
      /credentials\.rotation\.api\.c: "c" is not a key of an alternating rotation: expected one of a, b, active, retireInactive/,
    ],
    [
      'a bad slot token',
      { api: { a: '0', b: 'two words' } },
      undefined,
      /credentials\.rotation\.api\.b: "two words" is not a rotation token/,
    ],
    ['a grace that is not a duration', {}, 'soon', /credentials\.retireGrace: "soon" is not a duration: expected .*1s to 30d/],
    ['a grace over 30 days', {}, '31d', /credentials\.retireGrace: "31d" is out of range: expected 1s to 30d/],
  ])(
    'GIVEN %s WHEN the construct is created THEN the error names the field, the value and what is accepted',
    (_what, rotation, grace, message) => {
      expect(() => alternating(rotation, grace)).toThrow(message);
    },
  );
});

describe('DatabaseSecrets alternating logins from existing Secrets', () => {
  const existing = (options: Record<string, unknown>) =>
    build({ credentials: DatabaseCredentials.fromExistingSecret('vault-db', options as never) });
  const slots = (secrets: DatabaseSecrets) =>
    secrets.loginSlots('api').map((s) => [s.username, s.secretName, s.passwordKey, s.version, s.retireAfterSeconds]);

  test('GIVEN plain tokens WHEN synthesized THEN every login keeps one slot, its existing Secret and the version of before', () => {
    const { secrets } = existing({ rotation: { api: '3' } });
    expect(secrets.loginSlots('api')).toEqual([
      { slot: 'a', username: 'caracal_prod_api', secretName: 'vault-db-api', passwordKey: 'password', version: 'existing:vault-db-api:3' },
    ]);
    expect(secrets.secretVersion('api')).toBe('existing:vault-db-api:3');
  });

  test("GIVEN slot b gets a token WHEN synthesized THEN nothing is created, the Job's slot b reads `<name>-b`, and the clients keep slot a", () => {
    const before = existing({});
    const { json, secrets } = existing({ rotation: { api: { a: '0', b: '1' } }, passwordKey: 'pass' });
    expect(json.resource).toBeUndefined();
    expect(slots(secrets)).toEqual([
      ['caracal_prod_api', 'vault-db-api', 'pass', 'existing:vault-db-api:0', undefined],
      ['caracal_prod_api_b', 'vault-db-api-b', 'pass', 'existing:vault-db-api-b:1', undefined],
    ]);
    expect([secrets.secretName('api'), secrets.loginRole('api'), secrets.secretVersion('api')]).toEqual([
      'vault-db-api',
      'caracal_prod_api',
      before.secrets.secretVersion('api'),
    ]);
  });

  test("GIVEN slot b made active WHEN synthesized THEN the clients' Secret, login role and version are slot b's, and the slots' versions do not change", () => {
    const staged = existing({ rotation: { api: { a: '0', b: '1' } } });
    const { secrets } = existing({ rotation: { api: { a: '0', b: '1', active: 'b' } } });
    expect([secrets.secretName('api'), secrets.loginRole('api'), secrets.secretVersion('api')]).toEqual([
      'vault-db-api-b',
      'caracal_prod_api_b',
      'existing:vault-db-api-b:1',
    ]);
    expect(slots(secrets)).toEqual(slots(staged.secrets));
  });

  test('GIVEN slot a retired with a grace and a named slot b Secret WHEN synthesized THEN slot a carries the grace and its version changes', () => {
    const { secrets } = existing({
      rotation: { api: { a: '0', b: '1', active: 'b', retireInactive: true } },
      retireGrace: '90s',
      slotBSecretNames: { api: 'vault-api-next' },
    });
    expect(slots(secrets)).toEqual([
      ['caracal_prod_api', 'vault-db-api', 'password', 'existing:vault-db-api:0:retire:90', 90],
      ['caracal_prod_api_b', 'vault-api-next', 'password', 'existing:vault-api-next:1', undefined],
    ]);
    expect(secrets.secretName('api')).toBe('vault-api-next');
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    [
      'an alternating owner',
      { rotation: { owner: { a: '0', b: '1' } } },
      /credentials\.rotation\.owner: .*one login: expected a rotation token/,
    ],
    [
      'active b without a token',
      { rotation: { api: { active: 'b' } } },
      /credentials\.rotation\.api\.active: "b" names slot b, which has no token/,
    ],
    [
      'a slot b Secret for the owner',
      { slotBSecretNames: { owner: 'vault-db-owner-b' } },
      /credentials\.slotBSecretNames\.owner: "owner" is not a login with a slot b: expected one of api, /,
    ],
    [
      'a slot b Secret name that is not a Secret name',
      { slotBSecretNames: { api: 'Vault_API' } },
      /credentials\.slotBSecretNames\.api: "Vault_API" is not a Secret name/,
    ],
    [
      "slot b in slot a's own Secret",
      { rotation: { api: { b: '1' } }, secretNames: { api: 'vault-api' }, slotBSecretNames: { api: 'vault-api' } },
      /credentials\.slotBSecretNames\.api: "vault-api" is already the Secret of slot a of this login: expected a Secret of slot b's own/,
    ],
    [
      "slot b in another login's Secret",
      { rotation: { api: { b: '1' } }, slotBSecretNames: { api: 'vault-db-sts' } },
      /credentials\.slotBSecretNames\.api: "vault-db-sts" is already the Secret of login sts/,
    ],
    [
      'two logins sharing a slot b Secret',
      { rotation: { api: { b: '1' }, sts: { b: '1' } }, slotBSecretNames: { api: 'vault-next', sts: 'vault-next' } },
      /credentials\.slotBSecretNames\.sts: "vault-next" is already the Secret of login api/,
    ],
    ['a grace that is not a duration', { retireGrace: 'soon' }, /credentials\.retireGrace: "soon" is not a duration: expected .*1s to 30d/],
  ])('GIVEN %s WHEN the construct is created THEN the error names the field, the value and what is accepted', (_what, options, message) => {
    expect(() => existing(options)).toThrow(message);
  });

  test('GIVEN several bad alternating options WHEN the construct is created THEN every problem is reported at once', () => {
    expect(() =>
      existing({ rotation: { owner: { b: '1' }, api: { b: 'two words' } }, slotBSecretNames: { api: 'Vault_API' }, retireGrace: '31d' }),
    ).toThrow(/4 problems/);
  });
});
