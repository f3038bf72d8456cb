// Secrets in text the runner prints: masked only where one can appear, never by replacing every occurrence of a
// password in everything printed (which garbles output for a short or common password, breaks JSON, and shows
// where the password's characters are). The mask is always the same three characters, whatever the secret's length.

export const MASK = '***';

/**
 * The password of every URL's userinfo (`scheme://user:***@host`, up to the last "@" of the authority) and every
 * `password=` of a key/value connection string, whatever the password is. Text without either is returned unchanged.
 */
export function maskConnectionStrings(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:)[^\s/?#]*@/gi, `$1${MASK}@`)
    .replace(/(^|[\s'"(,;])(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s'"),;]+)/gim, `$1$2${MASK}`);
}

const isWordChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);

/** Occurrences of `secret` in `text` that stand as a whole token (not part of a longer word). */
function wholeTokenAt(text: string, secret: string, at: number): boolean {
  const end = at + secret.length;
  return (!isWordChar(secret[0]) || !isWordChar(text[at - 1])) && (!isWordChar(secret[secret.length - 1]) || !isWordChar(text[end]));
}

function maskWholeTokens(text: string, secret: string): string {
  let out = '';
  let from = 0;
  for (let at = text.indexOf(secret); at >= 0; at = text.indexOf(secret, at + 1)) {
    if (at < from || !wholeTokenAt(text, secret, at)) continue;
    out += text.slice(from, at) + MASK;
    from = at + secret.length;
  }
  return out + text.slice(from);
}

/**
 * A server message (error, DETAIL, HINT, CONTEXT, notice) made safe to print. The server can only echo a secret
 * that was sent to it in `sent` (the statement that raised it), so a secret is masked only when `sent` holds it,
 * and then only where the message has it as a whole token; connection strings are masked as always.
 */
export function maskServerText(text: string, sent: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = maskConnectionStrings(text);
  for (const secret of secrets) {
    if (secret && sent.includes(secret)) out = maskWholeTokens(out, secret);
  }
  return out;
}

/** Text of unknown origin (an unexpected error's stack): every registered secret masked where it stands as a token. */
export function maskUnknownText(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = maskConnectionStrings(text);
  for (const secret of secrets) if (secret) out = maskWholeTokens(out, secret);
  return out;
}
