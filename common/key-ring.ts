// Key rings of the HMAC and encryption keys: the key ids, the one active key (new HMACs and encryptions) and the
// previous keys (kept for verification and decryption until no row references them), and where each is in the key
// material Secret. Shared by the constructs (KeyMaterialSecret) and the runner (`caracal-migrate key-references`).
// Imports nothing.

/**
 * A key id: what rows store in `hmac_key_id` / `encryption_key_id` (migrations/0001_baseline.up.sql accepts
 * `^[A-Za-z0-9._:/+-]+$`) and part of a Secret data key, so the common subset of both.
 */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const KEY_ID_ACCEPTED = '1-64 letters, digits, ".", "_" or "-"';

export const KEY_KINDS = ['hmac', 'encryption'] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

/** The id of the key that existed before key rings (its rows carry this id): `hmac-1`, `encryption-1`. */
export function firstKeyId(kind: KeyKind): string {
  return `${kind}-1`;
}

/** Secret data key of one key of the ring: `hmac-key.<id>`, `encryption-key.<id>` (base64). */
export function ringKeyName(kind: KeyKind, id: string): string {
  return `${kind}-key.${id}`;
}

/** Secret data key naming the active key's id: `hmac-active-key-id`, `encryption-active-key-id`. */
export function activeKeyIdName(kind: KeyKind): string {
  return `${kind}-active-key-id`;
}
