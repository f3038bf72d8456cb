// SCRAM-SHA-256 password verifiers computed client-side (RFC 5802 / RFC 7677, Postgres' stored format),
// so `ALTER ROLE ... PASSWORD` sends a verifier and no plain password reaches the server or its log.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** Postgres' default `scram_iterations` (4096 since SCRAM was added; configurable from 16). */
export const DEFAULT_SCRAM_ITERATIONS = 4096;
const SALT_BYTES = 16;

/** The parts of a stored verifier `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`. */
export interface ScramVerifier {
  readonly iterations: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

/**
 * The verifier Postgres stores for `password`. `salt` defaults to 16 random bytes (as Postgres does);
 * give one only to reproduce a known verifier.
 */
export function scramSha256Verifier(password: string, options: { iterations?: number; salt?: Buffer } = {}): string {
  const iterations = options.iterations ?? DEFAULT_SCRAM_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError(`SCRAM iterations ${iterations} must be a positive integer`);
  const salt = options.salt ?? randomBytes(SALT_BYTES);
  const salted = pbkdf2Sync(preparePassword(password), salt, iterations, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = hmac(salted, 'Server Key');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Parses a stored verifier; undefined when `text` is not one (an MD5 hash, a plain password). */
export function parseScramVerifier(text: string): ScramVerifier | undefined {
  const m = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) return undefined;
  return {
    iterations: Number(m[1]),
    salt: Buffer.from(m[2], 'base64'),
    storedKey: Buffer.from(m[3], 'base64'),
    serverKey: Buffer.from(m[4], 'base64'),
  };
}

/** True when `password` matches the stored verifier (what the server checks during SCRAM authentication). */
export function verifierMatches(verifier: string, password: string): boolean {
  const v = parseScramVerifier(verifier);
  if (!v) return false;
  return scramSha256Verifier(password, { iterations: v.iterations, salt: v.salt }) === verifier;
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

// RFC 4013 SASLprep as Postgres applies it (src/common/saslprep.c): ASCII passwords are used as they are;
// others are mapped (non-ASCII spaces to space, "commonly mapped to nothing" removed) and NFKC-normalized,
// and a result with prohibited or bidirectionally invalid characters falls back to the raw bytes, as the
// server does, so the verifier matches what the server computes for the same password.
// These classes list code points one by one on purpose (RFC 3454 tables), combining marks included.
/* eslint-disable no-misleading-character-class */
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu;
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/gu;
const PROHIBITED =
  /[\u0000-\u001F\u007F-\u009F\u0340\u0341\u200E\u200F\u202A-\u202E\u206A-\u206F\u2028\u2029\u2FF0-\u2FFB\uD800-\uDFFF\uE000-\uF8FF\uFFF9-\uFFFD\u{F0000}-\u{FFFFD}\u{100000}-\u{10FFFD}\u{E0001}\u{E0020}-\u{E007F}]/u;
// Right-to-left letters (RFC 3454 D.1, by block: Hebrew, Arabic, Syriac, Thaana, NKo, and their presentation forms);
// JavaScript has no Bidi_Class property escape.
const RAND_AL_CAT = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFC]/u;
/* eslint-enable no-misleading-character-class */
const L_CAT = /(?![\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFC])\p{L}/u;

export function preparePassword(password: string): Buffer {
  const raw = Buffer.from(password, 'utf8');
  if (/^[\x00-\x7F]*$/.test(password)) return raw;
  const mapped = password.replace(MAPPED_TO_NOTHING, '').replace(NON_ASCII_SPACE, ' ').normalize('NFKC');
  if (mapped === '' || PROHIBITED.test(mapped)) return raw;
  if (RAND_AL_CAT.test(mapped)) {
    const chars = [...mapped];
    if (L_CAT.test(mapped) || !RAND_AL_CAT.test(chars[0]) || !RAND_AL_CAT.test(chars[chars.length - 1])) return raw;
  }
  return Buffer.from(mapped, 'utf8');
}
