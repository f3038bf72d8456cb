// KeyMaterialSecret: the HMAC and encryption keys, generated once at fixed, protected addresses, or an existing Secret.
import { KeyMaterial, KeyMaterialSecret, KeyMaterialSecretProps } from '../../../constructs';
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
      'encryption-key': '${random_bytes.caracal_encryption_key.base64}',
    });
    expect([keys.secretName, keys.resources.length]).toEqual(['caracal-keys', 3]);
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
