// KeyMaterialSecret: the HMAC and encryption key rings of Caracal's services, each key generated once by Terraform
// (never replaced: prevent_destroy and fixed logical ids), or taken from a Secret that already exists. A ring has key
// ids, one active key (new HMACs and encryptions) and the previous keys (verification and decryption of older rows),
// which stay until `caracal-migrate key-references` finds no row under them (docs/operations.md#hmac-and-encryption-keys).
import { Construct } from 'constructs';
import { TerraformResource } from 'cdktf';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { Bytes } from '@cdktf/provider-random/lib/bytes';
import { Problems } from './errors';
import { standardLabels } from './internal/labels';
import * as rules from './internal/rules';
import { existingVersion } from './internal/credentials-checksum';
import { activeKeyIdName, firstKeyId, KEY_ID_ACCEPTED, KEY_ID_PATTERN, KEY_KINDS, KeyKind, ringKeyName } from '../common/key-ring';

/** One key ring's ids. */
export interface KeyRingOptions {
  /**
   * Key ids in the ring, oldest first; each has its own `random_bytes`. The key that existed before key rings is
   * `hmac-1` / `encryption-1` and keeps its address. @default ['hmac-1'] or ['encryption-1']
   */
  readonly keys?: readonly string[];
  /** The key new HMACs / encryptions use. @default the last of `keys` */
  readonly active?: string;
  /**
   * Ids that left the ring once no row references them (`caracal-migrate key-references`): no longer in the Secret,
   * their `random_bytes` stay in Terraform state (prevent_destroy). @default none
   */
  readonly retired?: readonly string[];
}

/** A key ring as synthesized. */
export interface KeyRing {
  readonly active: string;
  /** Ids in the Secret (the active one included), oldest first. */
  readonly keys: readonly string[];
  readonly retired: readonly string[];
}
import { checkStackIdentity } from './internal/stack-identity';

export interface GeneratedKeyMaterialOptions {
  /** HMAC key length in bytes. @default 32 */
  readonly hmacBytes?: number;
  /** Encryption key length in bytes (32 = AES-256). @default 32 */
  readonly encryptionBytes?: number;
  /** The HMAC key ring. @default one key, hmac-1 */
  readonly hmacRing?: KeyRingOptions;
  /** The encryption key ring. @default one key, encryption-1 */
  readonly encryptionRing?: KeyRingOptions;
}

/** The HMAC and encryption keys: generated once by `random_bytes` (never replaced), or an existing Secret. */
export class KeyMaterial {
  /**
   * `random_bytes` for each key of each ring, base64 text in one Secret, `prevent_destroy`: `hmac-key.<id>` per key,
   * `hmac-active-key-id`, and `hmac-key` (the active key, for services that read one key); the same for encryption.
   */
  static generated(options: GeneratedKeyMaterialOptions = {}): KeyMaterial {
    return new KeyMaterial({ kind: 'generated', options });
  }

  /**
   * An existing Secret holding both keys. `version`: a token the operator bumps (or the secret manager's version id)
   * whenever the Secret's keys change; it feeds the services' `caracal.dev/database-credentials` annotation, so a
   * rotation by the secret manager rolls the pods that mount the keys. @default no version (nothing rolls them)
   */
  static fromExistingSecret(secretName: string, keys: { hmacKey?: string; encryptionKey?: string; version?: string } = {}): KeyMaterial {
    return new KeyMaterial({
      kind: 'existing',
      secretName,
      hmacKey: keys.hmacKey ?? 'hmac-key',
      encryptionKey: keys.encryptionKey ?? 'encryption-key',
      version: keys.version,
    });
  }

  private constructor(
    readonly source:
      | { kind: 'generated'; options: GeneratedKeyMaterialOptions }
      | { kind: 'existing'; secretName: string; hmacKey: string; encryptionKey: string; version?: string },
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
  /** The key rings (ids only); undefined for an existing Secret, whose owner keeps the rings. */
  readonly rings?: Readonly<Record<KeyKind, KeyRing>>;
  /** Changes whenever a ring does (ids, never key values): the services' pod annotation rolls them. */
  readonly version: string;

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
      if (km.version !== undefined) rules.rotationToken(problems, 'keyMaterial.version', km.version);
      problems.throwIfAny();
      this.secretName = km.secretName;
      this.hmacKey = km.hmacKey;
      this.encryptionKey = km.encryptionKey;
      this.resources = [];
      this.version = existingVersion(km.secretName, km.version);
      return;
    }

    rules.knownKeys(
      problems,
      'keyMaterial',
      km.options,
      ['hmacBytes', 'encryptionBytes', 'hmacRing', 'encryptionRing'],
      'generated key material option',
    );
    const rings = {
      hmac: keyRing(problems, 'keyMaterial.hmacRing', 'hmac', km.options.hmacRing),
      encryption: keyRing(problems, 'keyMaterial.encryptionRing', 'encryption', km.options.encryptionRing),
    };
    const hmacBytes = km.options.hmacBytes ?? 32;
    const encryptionBytes = km.options.encryptionBytes ?? 32;
    rules.integer(problems, 'keyMaterial.hmacBytes', hmacBytes, 32, 128, 'bytes');
    if (![16, 24, 32].includes(encryptionBytes))
      problems.add('keyMaterial.encryptionBytes', encryptionBytes, 'is not an AES key length: expected 16, 24 or 32 (bytes)');
    problems.throwIfAny();
    this.secretName = `${prefix}-keys`;
    this.hmacKey = 'hmac-key';
    this.encryptionKey = 'encryption-key';
    this.rings = rings;
    this.version = KEY_KINDS.map((k) => `${k}:${rings[k].active}:${rings[k].keys.join(',')}`).join(';');
    const bytes = { hmac: hmacBytes, encryption: encryptionBytes };
    const keyResources: Bytes[] = [];
    const data: Record<string, string> = {};
    for (const kind of KEY_KINDS) {
      const ring = rings[kind];
      for (const id of [...ring.keys, ...ring.retired]) {
        // The first key keeps the construct id and logical id it had before key rings: nothing is replaced.
        const first = id === firstKeyId(kind);
        const key = new Bytes(this, first ? `${kind}-key` : `${kind}-key-${id}`, {
          length: bytes[kind],
          lifecycle: { preventDestroy: true },
        });
        key.overrideLogicalId(`${idPrefix}_${kind}_key${first ? '' : `_${logicalIdPart(id)}`}`);
        keyResources.push(key);
        if (ring.keys.includes(id)) data[ringKeyName(kind, id)] = key.base64;
        if (id === ring.active) {
          data[kind === 'hmac' ? this.hmacKey : this.encryptionKey] = key.base64;
          data[activeKeyIdName(kind)] = id;
        }
      }
    }
    const secret = new SecretV1(this, 'key-material', {
      metadata: {
        name: this.secretName,
        namespace: props.namespace,
        labels: standardLabels({ name: 'caracal-secrets', instance: `caracal-${props.environment}`, component: 'key-material' }),
      },
      type: 'Opaque',
      data,
      lifecycle: { preventDestroy: true },
    });
    secret.overrideLogicalId(`${idPrefix}_key_material`);
    this.resources = [...keyResources, secret];
  }
}

/** A key id as part of a Terraform logical id: lower case, anything but letters and digits as "_". */
function logicalIdPart(id: string): string {
  return id.toLowerCase().replace(/[^a-z0-9]/g, '_');
}

/** One ring's options checked and completed: ids well-formed and distinct (also as logical ids), the active one in the ring. */
function keyRing(problems: Problems, field: string, kind: KeyKind, o: KeyRingOptions | undefined): KeyRing {
  rules.knownKeys(problems, field, o, ['keys', 'active', 'retired'], 'key ring option');
  const keys = o?.keys ?? [firstKeyId(kind)];
  const retired = o?.retired ?? [];
  const seen = new Map<string, string>();
  const ids = (name: 'keys' | 'retired', list: readonly unknown[]) => {
    if (!Array.isArray(list)) return problems.add(`${field}.${name}`, list, 'is not a list of key ids');
    list.forEach((id, i) => {
      if (typeof id !== 'string' || !KEY_ID_PATTERN.test(id))
        return problems.add(`${field}.${name}[${i}]`, id, `is not a key id: expected ${KEY_ID_ACCEPTED}`);
      const part = logicalIdPart(id);
      const other = seen.get(part);
      if (other !== undefined)
        problems.add(
          `${field}.${name}[${i}]`,
          id,
          other === id ? 'is in the ring twice' : `clashes with ${JSON.stringify(other)}: both become the logical id part ${part}`,
        );
      seen.set(part, id);
    });
  };
  ids('keys', keys);
  ids('retired', retired);
  if (Array.isArray(keys) && keys.length === 0) problems.add(`${field}.keys`, keys, 'is empty: expected at least the active key');
  const active = o?.active ?? (Array.isArray(keys) ? keys[keys.length - 1] : undefined);
  if (o?.active !== undefined && Array.isArray(keys) && !keys.includes(o.active))
    problems.add(`${field}.active`, o.active, `is not in keys: expected one of ${keys.join(', ')} (a retired key cannot be active)`);
  return { active: active ?? firstKeyId(kind), keys: Array.isArray(keys) ? keys : [], retired: Array.isArray(retired) ? retired : [] };
}
