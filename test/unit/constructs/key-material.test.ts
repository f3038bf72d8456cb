// KeyMaterialSecret: the HMAC and encryption keys, generated once at fixed, protected addresses, or an existing Secret.
import { KeyMaterial, KeyMaterialSecret, KeyMaterialSecretProps, KeyRingOptions } from '../../../constructs';
import { Json, resources, scope, synthScope } from '../../support/synth';

function build(props: Partial<KeyMaterialSecretProps> = {}): { json: Json; keys: KeyMaterialSecret } {
  let keys!: KeyMaterialSecret;
  const { json } = synthScope((s) => {
    keys = new KeyMaterialSecret(s, 'keys', { environment: 'prod', namespace: 'caracal', ...props });
  });
  return { json, keys };
}

describe('KeyMaterialSecret', () => {
  test('GIVEN generated key material WHEN synthesized THEN HMAC and encryption keys are random_bytes, protected by prevent_destroy', () => {
    const { json, keys } = build();
    const bytes = resources(json, 'random_bytes');
    expect(bytes.caracal_hmac_key).toMatchObject({ length: 32, lifecycle: { prevent_destroy: true } });
    expect(bytes.caracal_encryption_key).toMatchObject({ length: 32, lifecycle: { prevent_destroy: true } });
    const km = resources(json, 'kubernetes_secret_v1').caracal_key_material;
    expect(km.lifecycle.prevent_destroy).toBe(true);
    expect(km.data).toEqual({
      'hmac-key': '${random_bytes.caracal_hmac_key.base64}',
      'hmac-key.hmac-1': '${random_bytes.caracal_hmac_key.base64}',
      'hmac-active-key-id': 'hmac-1',
      'encryption-key': '${random_bytes.caracal_encryption_key.base64}',
      'encryption-key.encryption-1': '${random_bytes.caracal_encryption_key.base64}',
      'encryption-active-key-id': 'encryption-1',
    });
    expect([keys.secretName, keys.resources.length]).toEqual(['caracal-keys', 3]);
    expect(keys.rings).toEqual({
      hmac: { active: 'hmac-1', keys: ['hmac-1'], retired: [] },
      encryption: { active: 'encryption-1', keys: ['encryption-1'], retired: [] },
    });
  });

  test('GIVEN an existing Secret WHEN synthesized THEN nothing is generated and the construct points at it', () => {
    const { json, keys } = build({ keyMaterial: KeyMaterial.fromExistingSecret('vault-keys', { hmacKey: 'hmac' }) });
    expect(json.resource).toBeUndefined();
    expect([keys.secretName, keys.hmacKey, keys.encryptionKey, keys.resources]).toEqual(['vault-keys', 'hmac', 'encryption-key', []]);
  });

  test('GIVEN a logical-id prefix WHEN synthesized THEN the keys keep fixed addresses under it', () => {
    const { json } = build({ logicalIdPrefix: 'eu' });
    expect(Object.keys(resources(json, 'random_bytes')).sort()).toEqual(['eu_encryption_key', 'eu_hmac_key']);
  });

  test.each<[string, Partial<KeyMaterialSecretProps>]>([
    ['environment', { environment: 'Prod' }],
    ['namespace', { namespace: '' }],
    ['namePrefix', { namePrefix: 'Caracal!' }],
    ['keyMaterial.hmacBytes', { keyMaterial: KeyMaterial.generated({ hmacBytes: 16 }) }],
    ['keyMaterial.encryptionBytes', { keyMaterial: KeyMaterial.generated({ encryptionBytes: 20 }) }],
    ['keyMaterial.secretName', { keyMaterial: KeyMaterial.fromExistingSecret('') }],
    ['keyMaterial.hmacKey', { keyMaterial: KeyMaterial.fromExistingSecret('vault-keys', { hmacKey: 'hmac key' }) }],
  ])('GIVEN a bad %s WHEN the construct is created THEN the error names it', (field, props) => {
    expect(() => new KeyMaterialSecret(scope(), 'keys', { environment: 'prod', namespace: 'caracal', ...props })).toThrow(
      new RegExp(`- ${field}: `),
    );
  });

  test('GIVEN two bad key lengths WHEN the construct is created THEN both problems are reported together', () => {
    const attempt = () =>
      new KeyMaterialSecret(scope(), 'keys', {
        environment: 'prod',
        namespace: 'caracal',
        keyMaterial: KeyMaterial.generated({ hmacBytes: 8, encryptionBytes: 20 }),
      });
    expect(attempt).toThrow(/2 problems\n {2}- keyMaterial\.hmacBytes: 8 [^\n]*\n {2}- keyMaterial\.encryptionBytes: 20 /);
  });
});

describe('KeyMaterialSecret key rings', () => {
  const ringed = (hmacRing: KeyRingOptions, encryptionRing?: KeyRingOptions) =>
    build({ keyMaterial: KeyMaterial.generated({ hmacRing, ...(encryptionRing ? { encryptionRing } : {}) }) });

  test('GIVEN a second HMAC key made active WHEN synthesized THEN both keys are in the Secret under their ids, the new one is active, and the first keeps its address', () => {
    const { json, keys } = ringed({ keys: ['hmac-1', 'hmac-2026-07'] });
    const bytes = resources(json, 'random_bytes');
    const data = resources(json, 'kubernetes_secret_v1').caracal_key_material.data;

    expect(Object.keys(bytes).sort()).toEqual(['caracal_encryption_key', 'caracal_hmac_key', 'caracal_hmac_key_hmac_2026_07']);
    expect(bytes.caracal_hmac_key_hmac_2026_07).toMatchObject({ length: 32, lifecycle: { prevent_destroy: true } });
    expect(data['hmac-key.hmac-1']).toBe('${random_bytes.caracal_hmac_key.base64}');
    expect(data['hmac-key.hmac-2026-07']).toBe('${random_bytes.caracal_hmac_key_hmac_2026_07.base64}');
    expect(data['hmac-key']).toBe('${random_bytes.caracal_hmac_key_hmac_2026_07.base64}');
    expect(data['hmac-active-key-id']).toBe('hmac-2026-07');
    expect(keys.rings!.hmac).toEqual({ active: 'hmac-2026-07', keys: ['hmac-1', 'hmac-2026-07'], retired: [] });
  });

  test('GIVEN the first key retired WHEN synthesized THEN it leaves the Secret but its random_bytes stays, protected, at its address', () => {
    const { json } = ringed({ keys: ['hmac-2026-07'], retired: ['hmac-1'] });
    const bytes = resources(json, 'random_bytes');
    const data = resources(json, 'kubernetes_secret_v1').caracal_key_material.data;

    expect(bytes.caracal_hmac_key).toMatchObject({ lifecycle: { prevent_destroy: true } });
    expect(
      Object.keys(data)
        .filter((k) => k.startsWith('hmac'))
        .sort(),
    ).toEqual(['hmac-active-key-id', 'hmac-key', 'hmac-key.hmac-2026-07']);
  });

  test('GIVEN a ring change WHEN the version is read THEN it changes with the ids and carries no key value', () => {
    const base = build().keys.version;
    const rotated = ringed({ keys: ['hmac-1', 'hmac-2'] }).keys.version;

    expect(base).toBe('hmac:hmac-1:hmac-1;encryption:encryption-1:encryption-1');
    expect(rotated).toBe('hmac:hmac-2:hmac-1,hmac-2;encryption:encryption-1:encryption-1');
    expect(ringed({ keys: ['hmac-1', 'hmac-2'], active: 'hmac-1' }).keys.version).not.toBe(rotated);
  });

  test.each<[string, KeyRingOptions, RegExp]>([
    ['bad id', { keys: ['hmac 2'] }, /keyMaterial\.hmacRing\.keys\[0\]: "hmac 2" is not a key id: expected 1-64 letters/],
    ['empty ring', { keys: [] }, /keyMaterial\.hmacRing\.keys: \[\] is empty: expected at least the active key/],
    ['duplicate', { keys: ['hmac-1', 'hmac-1'] }, /keyMaterial\.hmacRing\.keys\[1\]: "hmac-1" is in the ring twice/],
    ['logical id clash', { keys: ['hmac.2', 'hmac_2'] }, /keyMaterial\.hmacRing\.keys\[1\]: "hmac_2" clashes with "hmac\.2"/],
    [
      'active not in ring',
      { keys: ['hmac-2'], retired: ['hmac-1'], active: 'hmac-1' },
      /keyMaterial\.hmacRing\.active: "hmac-1" is not in keys: expected one of hmac-2/,
    ],
    [
      'retired and kept',
      { keys: ['hmac-1', 'hmac-2'], retired: ['hmac-1'] },
      /keyMaterial\.hmacRing\.retired\[0\]: "hmac-1" is in the ring twice/,
    ],
    ['misspelled option', { keyz: ['hmac-1'] } as never, /keyMaterial\.hmacRing\.keyz: .*keys/],
  ])('GIVEN a bad key ring (%s) WHEN constructed THEN a ValidationError names the field and what is accepted', (_name, ring, expected) => {
    expect(
      () =>
        new KeyMaterialSecret(scope(), 'keys', {
          environment: 'prod',
          namespace: 'caracal',
          keyMaterial: KeyMaterial.generated({ hmacRing: ring }),
        }),
    ).toThrow(expected);
  });
});
