// The pod annotation that rolls a service when one of its credentials rotates: a SHA-256 over the credentials'
// versions (rotation tokens, slots, Secret names, key ring ids), never over their values, so it reveals nothing and is known at
// synth. The chart values (`helmValues()`) and the provider wiring (`serviceWorkload()`) carry the same annotation.
import { createHash } from 'node:crypto';

/** `caracal.dev/<store>-credentials`: one annotation per store, so the composite merges them without recomputing. */
export function credentialsAnnotation(store: 'database' | 'redis', versions: readonly string[]): Record<string, string> {
  return { [`caracal.dev/${store}-credentials`]: createHash('sha256').update(versions.join('\n')).digest('hex') };
}

/**
 * The version of a Secret someone else writes (External Secrets, Vault): its name, and the token the operator bumps
 * (or the secret manager's version id) when its values change. Without a token the pre-token form, so nothing rolls.
 */
export function existingVersion(secretName: string, token: string | undefined): string {
  return token === undefined ? `existing:${secretName}` : `existing:${secretName}:${token}`;
}
