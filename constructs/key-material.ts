// KeyMaterialSecret: the HMAC and encryption keys of Caracal's services, generated once by Terraform (never
// replaced: prevent_destroy and fixed logical ids) or taken from a Secret that already exists.
import { Construct } from 'constructs';
import { TerraformResource } from 'cdktf';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { Bytes } from '@cdktf/provider-random/lib/bytes';
import { Problems } from './errors';
import { standardLabels } from './internal/labels';
import * as rules from './internal/rules';
import { checkStackIdentity } from './internal/stack-identity';

export interface GeneratedKeyMaterialOptions {
  /** HMAC key length in bytes. @default 32 */
  readonly hmacBytes?: number;
  /** Encryption key length in bytes (32 = AES-256). @default 32 */
  readonly encryptionBytes?: number;
}

/** The HMAC and encryption keys: generated once by `random_bytes` (never replaced), or an existing Secret. */
export class KeyMaterial {
  /** `random_bytes` for each key, base64 text in one Secret (keys `hmac-key`, `encryption-key`), `prevent_destroy`. */
  static generated(options: GeneratedKeyMaterialOptions = {}): KeyMaterial {
    return new KeyMaterial({ kind: 'generated', options });
  }

  /** An existing Secret holding both keys. */
  static fromExistingSecret(secretName: string, keys: { hmacKey?: string; encryptionKey?: string } = {}): KeyMaterial {
    return new KeyMaterial({
      kind: 'existing',
      secretName,
      hmacKey: keys.hmacKey ?? 'hmac-key',
      encryptionKey: keys.encryptionKey ?? 'encryption-key',
    });
  }

  private constructor(
    readonly source:
      | { kind: 'generated'; options: GeneratedKeyMaterialOptions }
      | { kind: 'existing'; secretName: string; hmacKey: string; encryptionKey: string },
  ) {}
}

export interface KeyMaterialSecretProps {
  /** Environment name (labels). */
  readonly environment: string;
  /** Namespace the Secret lives in. */
  readonly namespace: string;
  /** Generated or existing keys. @default KeyMaterial.generated() */
  readonly keyMaterial?: KeyMaterial;
  /** Prefix of the generated Secret's name (`<prefix>-keys`). @default 'caracal' */
  readonly namePrefix?: string;
  /**
   * Prefix of the Terraform logical ids of the keys and their Secret. These ids are fixed (not derived from the
   * construct path) so moving the construct never replaces key material. @default 'caracal'
   */
  readonly logicalIdPrefix?: string;
}

/** Every prop of KeyMaterialSecretProps: a key not among them (from JavaScript) is an error naming the closest. */
const PROPS = rules.keysOf<KeyMaterialSecretProps>({
  environment: true,
  namespace: true,
  keyMaterial: true,
  namePrefix: true,
  logicalIdPrefix: true,
});

export class KeyMaterialSecret extends Construct {
  /** Name of the Secret holding both keys. */
  readonly secretName: string;
  /** Key of the HMAC key in the Secret. */
  readonly hmacKey: string;
  /** Key of the encryption key in the Secret. */
  readonly encryptionKey: string;
  /** Terraform resources holding key material (protected by `prevent_destroy`); empty for an existing Secret. */
  readonly resources: readonly TerraformResource[];

  constructor(scope: Construct, id: string, props: KeyMaterialSecretProps) {
    super(scope, id);
    checkStackIdentity(this);
    const problems = new Problems(this.node.path);
    rules.knownKeys(problems, '', props, PROPS, 'KeyMaterialSecret prop');
    const km = (props.keyMaterial ?? KeyMaterial.generated()).source;
    const prefix = props.namePrefix ?? 'caracal';
    rules.environmentName(problems, 'environment', props.environment);
    rules.namespace(problems, 'namespace', props.namespace);
    rules.namePrefix(problems, 'namePrefix', prefix, 32);
    const idPrefix = rules.logicalIdPrefix(problems, 'logicalIdPrefix', props.logicalIdPrefix);

    if (km.kind === 'existing') {
      rules.secretName(problems, 'keyMaterial.secretName', km.secretName);
      rules.secretKey(problems, 'keyMaterial.hmacKey', km.hmacKey);
      rules.secretKey(problems, 'keyMaterial.encryptionKey', km.encryptionKey);
      problems.throwIfAny();
      this.secretName = km.secretName;
      this.hmacKey = km.hmacKey;
      this.encryptionKey = km.encryptionKey;
      this.resources = [];
      return;
    }

    rules.knownKeys(problems, 'keyMaterial', km.options, ['hmacBytes', 'encryptionBytes'], 'generated key material option');
    const hmacBytes = km.options.hmacBytes ?? 32;
    const encryptionBytes = km.options.encryptionBytes ?? 32;
    rules.integer(problems, 'keyMaterial.hmacBytes', hmacBytes, 32, 128, 'bytes');
    if (![16, 24, 32].includes(encryptionBytes))
      problems.add('keyMaterial.encryptionBytes', encryptionBytes, 'is not an AES key length: expected 16, 24 or 32 (bytes)');
    problems.throwIfAny();
    this.secretName = `${prefix}-keys`;
    this.hmacKey = 'hmac-key';
    this.encryptionKey = 'encryption-key';
    const hmac = new Bytes(this, 'hmac-key', { length: hmacBytes, lifecycle: { preventDestroy: true } });
    hmac.overrideLogicalId(`${idPrefix}_hmac_key`);
    const enc = new Bytes(this, 'encryption-key', { length: encryptionBytes, lifecycle: { preventDestroy: true } });
    enc.overrideLogicalId(`${idPrefix}_encryption_key`);
    const secret = new SecretV1(this, 'key-material', {
      metadata: {
        name: this.secretName,
        namespace: props.namespace,
        labels: standardLabels({ name: 'caracal-secrets', instance: `caracal-${props.environment}`, component: 'key-material' }),
      },
      type: 'Opaque',
      data: { [this.hmacKey]: hmac.base64, [this.encryptionKey]: enc.base64 },
      lifecycle: { preventDestroy: true },
    });
    secret.overrideLogicalId(`${idPrefix}_key_material`);
    this.resources = [hmac, enc, secret];
  }
}
